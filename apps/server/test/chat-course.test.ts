import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, chatApp, eventsOf, ok, people, send, type ChatTestApp } from './support/chat.js';
import { describeEachDialect } from './support/databases.js';
import { login, signUpAdmin, type SignedIn } from './support/identity.js';
import { until } from './support/until.js';

describeEachDialect('course channels follow enrollments', (dialect) => {
  let t: ChatTestApp;
  let teacher: SignedIn, first: SignedIn, second: SignedIn;
  let courseId: string;

  beforeAll(async () => {
    t = await chatApp({ dialect, background: true });
    const admin = await signUpAdmin(t);
    [teacher, first, second] = (await people(t, 3, 'Course')) as [SignedIn, SignedIn, SignedIn];
    await t.identity.admin.updateUser(admin.userId, teacher.userId, undefined, { roles: ['teacher'] }, { ip: '127.0.0.1' });
    teacher.accessToken = (await login(t, teacher.email)).json().accessToken;
    courseId = (await ok(api(t, teacher, 'POST', '/courses', { title: 'Chemistry 101', status: 'published', visibility: 'public' }), 201)).id;
    await ok(api(t, first, 'POST', `/courses/${courseId}/enrollments`, {}), 201);
  }, 180_000);
  afterAll(() => t.destroy());

  const memberIds = async (id: string, as: SignedIn) => (await ok(api(t, as, 'GET', `/conversations/${id}/members`))).items.map((m: any) => m.userId).sort();

  it('staff and enrolled students open the one channel of a course; others cannot', async () => {
    const opened = await api(t, first, 'POST', '/conversations', { kind: 'course', courseId });
    expect(opened.statusCode, opened.body).toBe(201);
    expect(opened.json()).toMatchObject({ kind: 'course', courseId, title: 'Chemistry 101', memberCount: 2 });
    const again = await api(t, teacher, 'POST', '/conversations', { kind: 'course', courseId });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(opened.json().id);
    expect(await memberIds(opened.json().id, first)).toEqual([first.userId, teacher.userId].sort());
    const refused = await api(t, second, 'POST', '/conversations', { kind: 'course', courseId });
    expect(refused.statusCode).toBe(404);
    expect(refused.json().code).toBe('CHAT_COURSE_NOT_FOUND');
    expect((await api(t, second, 'POST', '/conversations', { kind: 'course', courseId: 'crs_nope' })).statusCode).toBe(404);
    expect((await api(t, second, 'GET', `/conversations/${opened.json().id}`)).statusCode).toBe(404);
  });

  it('a student who enrolls joins the channel; one who withdraws leaves it', async () => {
    const channel = await ok(api(t, teacher, 'POST', '/conversations', { kind: 'course', courseId }));
    await send(t, teacher, channel.id, 'Welcome!');
    await ok(api(t, second, 'POST', `/courses/${courseId}/enrollments`, {}), 201);
    await until(async () => (await api(t, second, 'GET', `/conversations/${channel.id}`)).statusCode === 200);
    // A newcomer starts with the earlier messages read.
    expect((await ok(api(t, second, 'GET', `/conversations/${channel.id}`))).me).toMatchObject({ unreadCount: 0, readSeq: 1 });
    expect((await ok(api(t, second, 'GET', `/conversations/${channel.id}/messages`))).items.map((m: any) => m.body)).toEqual(['Welcome!']);
    expect((await eventsOf(t, `user:${second.userId}`, 'chat.member.added')).map((e) => e.payload.conversationId)).toEqual([channel.id]);

    const res = await api(t, second, 'DELETE', `/courses/${courseId}/enrollments/${second.userId}`);
    expect(res.statusCode, res.body).toBe(204);
    await until(async () => (await api(t, second, 'GET', `/conversations/${channel.id}`)).statusCode === 404);
    expect((await api(t, second, 'POST', `/conversations/${channel.id}/messages`, { body: 'still here?' })).statusCode).toBe(404);
    expect((await ok(api(t, teacher, 'GET', `/conversations/${channel.id}`))).memberCount).toBe(2);
  });

  it('messages in a channel carry no recipient list; staff may delete any of them, students only their own', async () => {
    const channel = await ok(api(t, first, 'POST', '/conversations', { kind: 'course', courseId }));
    const question = await send(t, first, channel.id, 'Is the lab open today?');
    const event = (await eventsOf(t, `conversation:${channel.id}`, 'chat.message.created')).find((e) => e.payload.messageId === question.id)!;
    expect(event.payload).toMatchObject({ conversationKind: 'course', senderId: first.userId });
    expect(event.payload).not.toHaveProperty('recipientIds');
    const answer = await send(t, teacher, channel.id, 'Yes, until 6.');
    expect((await api(t, first, 'DELETE', `/conversations/${channel.id}/messages/${answer.id}`)).json().code).toBe('FORBIDDEN');
    expect((await api(t, teacher, 'DELETE', `/conversations/${channel.id}/messages/${question.id}`)).statusCode).toBe(204);
    expect((await api(t, first, 'DELETE', `/conversations/${channel.id}`)).json().code).toBe('CHAT_NOT_A_GROUP');
    expect((await api(t, teacher, 'POST', `/conversations/${channel.id}/members`, { userId: second.userId })).json().code).toBe('CHAT_NOT_A_GROUP');
  });
});

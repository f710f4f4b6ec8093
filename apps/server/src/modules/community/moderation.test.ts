import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { communityApp, type CommunityTestApp } from '../../../test/support/community.js';
import { login, signUp, signUpAdmin, type SignedIn } from '../../../test/support/identity.js';

describeEachDialect('community: moderation and blocks', (dialect) => {
  let t: CommunityTestApp;
  let alice: SignedIn;
  let bob: SignedIn;
  let carol: SignedIn;
  let teacher: SignedIn;
  let admin: SignedIn;
  let courseId: string;
  beforeAll(async () => {
    t = await communityApp({ dialect });
    [alice, bob, carol, teacher] = await Promise.all([signUp(t, { displayName: 'Alice' }), signUp(t, { displayName: 'Bob' }), signUp(t, { displayName: 'Carol' }), signUp(t, { displayName: 'Teacher' })]);
    admin = await signUpAdmin(t);
    await t.identity.admin.updateUser(admin.userId, teacher.userId, undefined, { roles: ['teacher'] }, { ip: '127.0.0.1' });
    teacher.accessToken = (await login(t, teacher.email)).json().accessToken;
    const course = await t.call(teacher, 'POST', '/courses', { title: 'Moderated course', status: 'published', visibility: 'public' });
    expect(course.statusCode, course.body).toBe(201);
    courseId = course.json().id;
    for (const student of [alice, carol]) expect((await t.call(student, 'POST', `/courses/${courseId}/enrollments`, {})).statusCode).toBeLessThan(300);
  }, 180_000);
  afterAll(() => t.destroy());

  const queue = async (who: SignedIn, status = 'open') => (await t.call(who, 'GET', `/moderation/reports?status=${status}&limit=100`)).json().items as Array<{ id: string; targetId: string; status: string; resolution: string | null }>;

  it('a report answers 201 once per user and target; only what one can see can be reported', async () => {
    const post = await t.post(alice, { body: 'buy cheap pills' });
    const res = await t.call(bob, 'POST', `/posts/${post.id}/reports`, { reason: 'spam', note: 'an ad' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ targetType: 'post', targetId: post.id, reporterId: bob.userId, reason: 'spam', status: 'open', preview: 'buy cheap pills' });
    const again = await t.call(bob, 'POST', `/posts/${post.id}/reports`, { reason: 'other' });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(res.json().id);
    const event = (await t.eventsOf('community.report.created')).find((e) => e.payload.reportId === res.json().id)!;
    expect(event.scopes).toContain('system');
    const secret = await t.post(alice, { body: 'followers only', visibility: 'followers' });
    expect((await t.call(carol, 'POST', `/posts/${secret.id}/reports`, { reason: 'spam' })).statusCode).toBe(404);
    expect((await t.call(bob, 'POST', `/posts/${post.id}/reports`, { reason: 'nonsense' })).statusCode).toBe(422);
  });

  it('the queue: admins see every report, course staff those on their course posts, others nothing', async () => {
    const open = await t.post(alice, { body: 'open post' });
    const inCourse = await t.post(alice, { body: 'course post', courseId });
    const r1 = (await t.call(carol, 'POST', `/posts/${open.id}/reports`, { reason: 'harassment' })).json();
    const r2 = (await t.call(carol, 'POST', `/posts/${inCourse.id}/reports`, { reason: 'inappropriate' })).json();
    const adminQueue = (await queue(admin)).map((r) => r.id);
    expect(adminQueue).toEqual(expect.arrayContaining([r1.id, r2.id]));
    expect((await queue(teacher)).map((r) => r.id)).toEqual([r2.id]);
    expect(await queue(bob)).toEqual([]);
    expect(await queue(carol)).toEqual([]);
  });

  it('course staff hide a course post with a reason: the author still sees it, members do not; its reports are resolved', async () => {
    const post = await t.post(alice, { body: 'off-topic rant', courseId });
    const report = (await t.call(carol, 'POST', `/posts/${post.id}/reports`, { reason: 'inappropriate' })).json();
    expect((await t.call(carol, 'PUT', `/posts/${post.id}/moderation`, { status: 'hidden', reason: 'no' })).statusCode).toBe(403);
    const noReason = await t.call(teacher, 'PUT', `/posts/${post.id}/moderation`, { status: 'hidden' });
    expect(noReason.statusCode).toBe(422);
    expect(noReason.json().code).toBe('COMMUNITY_REASON_REQUIRED');
    const hidden = await t.call(teacher, 'PUT', `/posts/${post.id}/moderation`, { status: 'hidden', reason: 'Off topic for this course' });
    expect(hidden.statusCode, hidden.body).toBe(200);
    expect(hidden.json()).toMatchObject({ moderation: 'hidden', moderationReason: 'Off topic for this course' });

    expect((await t.call(alice, 'GET', `/posts/${post.id}`)).json()).toMatchObject({ moderation: 'hidden', moderationReason: 'Off topic for this course' });
    expect((await t.call(carol, 'GET', `/posts/${post.id}`)).statusCode).toBe(404);
    const feed = (await t.call(carol, 'GET', `/courses/${courseId}/feed?limit=100`)).json();
    expect(feed.items.map((p: { id: string }) => p.id)).not.toContain(post.id);
    const resolved = (await queue(teacher, 'resolved')).find((r) => r.id === report.id)!;
    expect(resolved).toMatchObject({ status: 'resolved', resolution: 'hidden' });
    const event = (await t.eventsOf('community.post.moderated')).find((e) => e.payload.targetId === post.id)!;
    expect(event.payload).toMatchObject({ authorId: alice.userId, status: 'hidden', reason: 'Off topic for this course', byId: teacher.userId, resolvedReportIds: [report.id] });
    expect(event.scopes).toContain(`user:${alice.userId}`);

    expect((await t.call(teacher, 'PUT', `/posts/${post.id}/moderation`, { status: 'visible' })).json().moderation).toBe('visible');
    expect((await t.call(carol, 'GET', `/posts/${post.id}`)).statusCode).toBe(200);
  });

  it('a removed comment is gone for everyone but moderators; teachers cannot moderate outside their courses', async () => {
    const post = await t.post(alice, { body: 'public post' });
    const comment = await t.comment(bob, post.id, { body: 'nasty' });
    expect((await t.call(teacher, 'PUT', `/comments/${comment.id}/moderation`, { status: 'removed', reason: 'abuse' })).statusCode).toBe(403);
    const removed = await t.call(admin, 'PUT', `/comments/${comment.id}/moderation`, { status: 'removed', reason: 'Abusive' });
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json()).toMatchObject({ moderation: 'removed', moderationReason: 'Abusive' });
    for (const who of [alice, bob, carol]) {
      expect((await t.call(who, 'GET', `/comments/${comment.id}`)).statusCode).toBe(404);
      expect((await t.call(who, 'GET', `/posts/${post.id}/comments`)).json().items).toEqual([]);
    }
    expect((await t.call(admin, 'GET', `/posts/${post.id}/comments`)).json().items.map((c: { id: string }) => c.id)).toEqual([comment.id]);
  });

  it('moderators and course staff dismiss reports; nobody else may', async () => {
    const post = await t.post(alice, { body: 'fine post', courseId });
    const report = (await t.call(carol, 'POST', `/posts/${post.id}/reports`, { reason: 'other' })).json();
    expect((await t.call(carol, 'PATCH', `/moderation/reports/${report.id}`, { status: 'dismissed' })).statusCode).toBe(404);
    expect((await t.call(teacher, 'PATCH', `/moderation/reports/${report.id}`, { status: 'dismissed', version: 9 })).statusCode).toBe(412);
    const dismissed = await t.call(teacher, 'PATCH', `/moderation/reports/${report.id}`, { status: 'dismissed' });
    expect(dismissed.statusCode, dismissed.body).toBe(200);
    expect(dismissed.json()).toMatchObject({ status: 'dismissed', resolvedBy: teacher.userId, version: 2 });
    expect((await queue(admin)).map((r) => r.id)).not.toContain(report.id);
    expect((await queue(admin, 'dismissed')).map((r) => r.id)).toContain(report.id);
  });

  it("blocking someone takes their posts and comments out of my feeds, ends follows both ways, and stops them following me", async () => {
    const [me, pest] = await Promise.all([signUp(t), signUp(t)]);
    await t.follow(me, pest);
    await t.follow(pest, me);
    const theirs = await t.post(pest, { body: 'from the pest' });
    const mine = await t.post(me, { body: 'mine' });
    await t.comment(pest, mine.id, { body: 'pest comment' });
    expect((await t.call(me, 'GET', '/feed')).json().items.map((p: { id: string }) => p.id)).toContain(theirs.id);

    const blocked = await t.call(me, 'PUT', `/users/${pest.userId}/block`);
    expect(blocked.statusCode, blocked.body).toBe(200);
    expect(blocked.json()).toEqual({ userId: pest.userId, blocked: true });
    expect((await t.call(me, 'PUT', `/users/${pest.userId}/block`)).statusCode).toBe(200);
    expect((await t.call(me, 'GET', '/feed')).json().items.map((p: { id: string }) => p.id)).toEqual([mine.id]);
    expect((await t.call(me, 'GET', `/users/${pest.userId}/posts`)).json().items).toEqual([]);
    expect((await t.call(me, 'GET', `/posts/${mine.id}/comments`)).json().items).toEqual([]);
    expect((await t.call(me, 'GET', `/users/${me.userId}/follow`)).json()).toMatchObject({ followerCount: 0, followingCount: 0 });
    expect((await t.call(pest, 'GET', `/users/${pest.userId}/follow`)).json()).toMatchObject({ followerCount: 0, followingCount: 0 });
    expect((await t.call(pest, 'PUT', `/users/${me.userId}/follow`)).statusCode).toBe(404);
    expect((await t.call(me, 'PUT', `/users/${pest.userId}/follow`)).json().code).toBe('COMMUNITY_USER_BLOCKED');
    expect((await t.call(me, 'GET', '/blocks')).json().items.map((b: { userId: string }) => b.userId)).toEqual([pest.userId]);
    expect((await t.call(me, 'PUT', `/users/${me.userId}/block`)).statusCode).toBe(422);

    expect((await t.call(me, 'DELETE', `/users/${pest.userId}/block`)).statusCode).toBe(204);
    expect((await t.call(me, 'GET', `/users/${pest.userId}/posts`)).json().items.map((p: { id: string }) => p.id)).toEqual([theirs.id]);
    expect((await t.call(me, 'GET', '/blocks')).json().items).toEqual([]);
  });
});

describeEachDialect('community: per-user write limits', (dialect) => {
  let t: CommunityTestApp;
  let alice: SignedIn;
  let bob: SignedIn;
  beforeAll(async () => {
    t = await communityApp({ dialect, env: { COMMUNITY_POSTS_PER_HOUR: '3', COMMUNITY_COMMENTS_PER_HOUR: '2' } });
    [alice, bob] = await Promise.all([signUp(t), signUp(t)]);
  }, 180_000);
  afterAll(() => t.destroy());

  it('posting and commenting beyond the limit is 429 with Retry-After, per user', async () => {
    for (let i = 0; i < 3; i++) await t.post(alice);
    const limited = await t.call(alice, 'POST', '/posts', { body: 'one too many' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const post = await t.post(bob);
    await t.comment(alice, post.id);
    await t.comment(alice, post.id);
    expect((await t.call(alice, 'POST', `/posts/${post.id}/comments`, { body: 'third' })).statusCode).toBe(429);
    await t.comment(bob, post.id);
  });
});

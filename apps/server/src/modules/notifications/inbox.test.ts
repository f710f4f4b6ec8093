import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { notificationsApp, userId, type NotificationsTestApp } from '../../../test/support/notifications.js';
import { until } from '../../../test/support/until.js';
import { INGEST_JOB } from './index.js';

describeEachDialect('notifications inbox', (dialect) => {
  let t: NotificationsTestApp;
  beforeAll(async () => {
    t = await notificationsApp({ dialect });
  }, 60_000);
  afterAll(() => t?.destroy());

  const comment = (post: string, postAuthorId: string, authorId: string, n: number) =>
    t.emit({
      type: 'community.comment.created',
      scopes: [`user:${postAuthorId}`],
      actorId: authorId,
      payload: { postId: post, commentId: `cmt_${n}${post.slice(4)}`, authorId, postAuthorId, preview: `comment ${n}` },
    });

  it('turns other modules’ events into inbox entries, with category, title, body, link and entity', async () => {
    const student = userId('s');
    await t.emit({ type: 'learning.enrollment.activated', scopes: [`user:${student}`], payload: { courseId: 'crs_1', userId: student, courseTitle: 'Algebra' } });
    // The inbox lists entries in the order they were stored; events ingested at once may land in either order.
    await until(async () => (await t.inbox(student)).items.length === 1);
    await t.emit({ type: 'learning.attempt.graded', scopes: [`user:${student}`], payload: { attemptId: 'att_1', quizId: 'qz_1', quizTitle: 'Fractions', courseId: 'crs_1', userId: student, score: 8, maxScore: 10, passed: true } });
    await until(async () => (await t.inbox(student)).items.length === 2);
    const { items } = await t.inbox(student);
    expect(items[1]).toMatchObject({ category: 'enrollment', title: 'You are enrolled in Algebra', link: '/courses/crs_1', entity: { type: 'course', id: 'crs_1' }, read: false, count: 1 });
    expect(items[0]).toMatchObject({ category: 'grade', link: '/attempts/att_1', entity: { type: 'attempt', id: 'att_1' } });
    expect(items[0]!.body).toContain('8 of 10');
    const count = await t.app.inject({ method: 'GET', url: '/api/v1/notifications/unread-count', headers: t.as(student) });
    expect(count.json()).toEqual({ unread: 2 });
  });

  it('tells a student of a grade a teacher gave, not of the one their own submission got on the spot (no job for it)', async () => {
    const student = userId('s');
    const graded = (attemptId: string, actorId: string) =>
      t.emit({ type: 'learning.attempt.graded', scopes: [`user:${student}`], actorId, payload: { attemptId, quizId: 'qz_1', quizTitle: 'Fractions', courseId: 'crs_1', userId: student, score: 8, maxScore: 10, passed: true } });
    const own = await graded('att_own', student);
    await graded('att_teacher', userId('t'));
    await until(async () => (await t.inbox(student)).items.length === 1);
    await t.settled();
    expect((await t.inbox(student)).items.map((item) => item.entity)).toEqual([{ type: 'attempt', id: 'att_teacher' }]);
    const jobs = await t.core.database.db.selectFrom('core_jobs').select('id').where('unique_key', '=', `${INGEST_JOB}:${own.id}`).execute();
    expect(jobs).toEqual([]);
  });

  it('tells a user of an invitation to a course, with a link to accept or decline it', async () => {
    const student = userId('s');
    await t.emit({ type: 'learning.invitation.created', scopes: [`user:${student}`], payload: { invitationId: 'inv_1', courseId: 'crs_2', courseTitle: 'Geometry', userId: student, invitedBy: null, expiresAt: '2030-01-01T00:00:00.000Z' } });
    await until(async () => (await t.inbox(student)).items.length === 1);
    expect((await t.inbox(student)).items[0]).toMatchObject({ category: 'enrollment', title: 'A teacher invited you to Geometry', link: '/me/course-invitations/inv_1', entity: { type: 'course', id: 'crs_2' } });
  });

  it('never stores one event twice for a recipient, even when it is delivered again', async () => {
    const owner = userId('o');
    const stored = await t.emit({ type: 'community.follow.created', scopes: [`user:${owner}`], payload: { followerId: userId('f'), followeeId: owner } });
    await until(async () => (await t.inbox(owner)).items.length === 1);
    // The dispatcher may hand the same event over again (another node, a retry): nothing new appears.
    expect(await t.notifications.service.ingest(stored)).toEqual([]);
    await t.core.jobs.enqueue(t.core.database.db, INGEST_JOB, { event: stored });
    await t.settled();
    const { items } = await t.inbox(owner);
    expect(items).toHaveLength(1);
    expect(items[0]!.count).toBe(1);
  });

  it('groups similar unread ones ("3 new comments on your post") and starts a new group once read', async () => {
    const author = userId('a');
    // All at once: ingestion jobs run in parallel and may finish in any order; the group still shows the newest.
    for (let n = 1; n <= 3; n++) await comment('pst_grp', author, userId('c'), n);
    await until(async () => (await t.inbox(author)).items[0]?.count === 3);
    let { items } = await t.inbox(author);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ category: 'comment', title: '3 new comments on your post', body: 'comment 3', entity: { type: 'post', id: 'pst_grp' } });
    const read = await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: t.as(author), payload: { ids: [items[0]!.id] } });
    expect(read.json()).toEqual({ updated: 1 });
    await comment('pst_grp', author, userId('c'), 4);
    await until(async () => (await t.inbox(author)).items.length === 2);
    ({ items } = await t.inbox(author));
    expect(items[0]).toMatchObject({ count: 1, read: false, body: 'comment 4' });
    expect(items[1]).toMatchObject({ count: 3, read: true });
  });

  it('notifies nobody of their own act, and every recipient of a chat message except its sender', async () => {
    const [sender, r1, r2] = [userId('m'), userId('r'), userId('r')];
    await comment('pst_self', sender, sender, 1);
    await t.emit({
      type: 'chat.message.notify',
      scopes: ['internal'],
      actorId: sender,
      payload: { conversationId: 'cnv_1', messageId: 'msg_1', senderId: sender, preview: 'hello', notifyIds: [sender, r1, r2] },
    });
    await until(async () => (await t.inbox(r2)).items.length === 1 && (await t.inbox(r1)).items.length === 1);
    expect((await t.inbox(r1)).items[0]).toMatchObject({ category: 'message', body: 'hello', link: '/conversations/cnv_1' });
    expect((await t.inbox(sender)).items).toHaveLength(0);
    // Reading the conversation in chat marks its notifications read in the inbox too.
    await t.emit({ type: 'chat.conversation.read', scopes: [`user:${r1}`], payload: { conversationId: 'cnv_1', userId: r1, readSeq: 1 } });
    await until(async () => (await t.inbox(r1)).items[0]?.read === true);
    expect((await t.inbox(r2)).items[0]!.read).toBe(false);
  });

  it('tells a member of a message once, even when its notify event comes twice (a job run again)', async () => {
    const [sender, member] = [userId('m'), userId('r')];
    const notify = (messageId: string) =>
      t.emit({ type: 'chat.message.notify', scopes: ['internal'], actorId: sender, payload: { conversationId: 'cnv_twice', messageId, senderId: sender, preview: messageId, notifyIds: [member] } });
    await notify('msg_a');
    await notify('msg_a');
    await notify('msg_b');
    // Events are dispatched in order: once msg_b is in, both msg_a jobs were queued; settled waits for them.
    await until(async () => (await t.inbox(member)).items[0]?.body === 'msg_b');
    await t.settled();
    expect((await t.inbox(member)).items).toMatchObject([{ count: 2, body: 'msg_b' }]);
  });

  it('pages with an opaque cursor, filters, marks all read, and deletes', async () => {
    const owner = userId('p');
    // One at a time, so that each entry gets its own time (ingestion jobs run in parallel).
    for (let n = 0; n < 5; n++) {
      await t.emit({ type: 'community.mention.created', scopes: [`user:${owner}`], payload: { userId: owner, authorId: userId('x'), postId: `pst_${n}` } });
      await until(async () => (await t.inbox(owner)).items.length === n + 1);
      t.clock.advance(1000);
    }
    const first = await t.inbox(owner, '?limit=2');
    expect(first.items).toHaveLength(2);
    const second = await t.inbox(owner, `?limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`);
    const third = await t.inbox(owner, `?limit=2&cursor=${encodeURIComponent(second.nextCursor!)}`);
    expect(third.nextCursor).toBeNull();
    const ids = [...first.items, ...second.items, ...third.items].map((i) => i.entity.id);
    expect(ids).toEqual(['pst_4', 'pst_3', 'pst_2', 'pst_1', 'pst_0']);

    const all = await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: t.as(owner), payload: { all: true } });
    expect(all.json()).toEqual({ updated: 5 });
    expect((await t.inbox(owner, '?unread=true')).items).toHaveLength(0);
    expect((await t.inbox(owner, '?category=grade')).items).toHaveLength(0);

    const target = first.items[0]!.id as string;
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/notifications/${target}`, headers: t.as(owner) });
    expect(del.statusCode).toBe(204);
    expect((await t.inbox(owner)).items.map((i) => i.id)).not.toContain(target);
    const again = await t.app.inject({ method: 'DELETE', url: `/api/v1/notifications/${target}`, headers: t.as(owner) });
    expect(again.statusCode).toBe(404);
  });

  it('never shows, changes or deletes another user’s notifications', async () => {
    const [owner, other] = [userId('own'), userId('oth')];
    await t.emit({ type: 'community.follow.created', scopes: [`user:${owner}`], payload: { followerId: other, followeeId: owner } });
    await until(async () => (await t.inbox(owner)).items.length === 1);
    const id = (await t.inbox(owner)).items[0]!.id as string;
    expect((await t.inbox(other)).items).toHaveLength(0);
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/notifications/${id}`, headers: t.as(other) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/notifications/${id}`, headers: t.as(other) })).statusCode).toBe(404);
    const read = await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: t.as(other), payload: { ids: [id] } });
    expect(read.json()).toEqual({ updated: 0 });
    const mine = await t.app.inject({ method: 'GET', url: `/api/v1/notifications/${id}`, headers: t.as(owner) });
    expect(mine.statusCode).toBe(200);
    expect(mine.headers.etag).toBe('"1"');
    expect(mine.json().read).toBe(false);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/notifications' })).statusCode).toBe(401);
  });

  it('appends notifications.notification.created scoped to the recipient only, in the same transaction', async () => {
    const owner = userId('ev');
    const before = await t.core.events.head();
    await t.emit({ type: 'chat.mention.created', scopes: [`user:${owner}`], payload: { conversationId: 'cnv_9', messageId: 'msg_9', senderId: userId('z'), userId: owner } });
    await until(async () => (await t.inbox(owner)).items.length === 1);
    const created = (await t.core.events.readSince(before, { limit: 100 })).filter((e) => e.type === 'notifications.notification.created');
    expect(created).toHaveLength(1);
    expect(created[0]!.scopes).toEqual([`user:${owner}`]);
    expect(created[0]!.payload).toMatchObject({ notification: { category: 'mention', id: (await t.inbox(owner)).items[0]!.id } });
  });

  it('answers 4xx, never 5xx, for bad input', async () => {
    const u = userId('bad');
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: t.as(u), payload: {} })).statusCode).toBe(422);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/notifications?cursor=forged', headers: t.as(u) })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/notifications?limit=500', headers: t.as(u) })).statusCode).toBe(422);
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { communityApp, type CommunityTestApp } from '../../../test/support/community.js';
import { signUp, signUpAdmin, type SignedIn } from '../../../test/support/identity.js';
import type { UserErasedPayload } from './community.events.js';
import { createErasureService, ERASE_JOB } from './erasure.service.js';

describeEachDialect('community: erasure of a deleted account', (dialect) => {
  let t: CommunityTestApp;
  let admin: SignedIn;
  let alice: SignedIn;
  let bob: SignedIn;
  let carol: SignedIn;
  beforeAll(async () => {
    t = await communityApp({ dialect, background: true });
    [alice, bob, carol] = await Promise.all([signUp(t, { displayName: 'Alice' }), signUp(t, { displayName: 'Bob' }), signUp(t, { displayName: 'Carol' })]);
    admin = await signUpAdmin(t);
  }, 180_000);
  afterAll(() => t.destroy());

  const db = () => t.core.database.db as any;
  const get = async (who: SignedIn, url: string) => {
    const res = await t.call(who, 'GET', url);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const ok = async (res: Promise<{ statusCode: number; body: string }>) => expect((await res).statusCode, (await res).body).toBeLessThan(300);
  const erasedEvents = async (userId: string) => (await t.eventsOf<UserErasedPayload>('community.user.erased')).filter((e) => e.payload.userId === userId);
  /** Deletes the account as an admin, and waits for the erasure job that the identity event starts. */
  async function deleteAccount(user: SignedIn) {
    expect((await t.call(admin, 'DELETE', `/admin/users/${user.userId}`)).statusCode).toBe(204);
    await vi.waitFor(async () => expect(await erasedEvents(user.userId)).toHaveLength(1), { timeout: 30_000, interval: 50 });
  }

  /** Every stored counter equals the rows it counts (posts, comments, per-user follow stats). */
  async function expectCountersExact() {
    const count = (table: string, where: string) => sql.raw(`(select count(*) from ${table} where ${where})`);
    const drift = async (query: ReturnType<typeof sql>) => (await query.execute(db())).rows;
    expect(
      await drift(sql`select id from community_post p where comment_count <> ${count('community_comment c', 'c.post_id = p.id')}
        or reaction_count <> ${count('community_reaction r', "r.target_type = 'post' and r.target_id = p.id")}
        or like_count <> ${count('community_reaction r', "r.target_type = 'post' and r.target_id = p.id and r.kind = 'like'")}
        or love_count <> ${count('community_reaction r', "r.target_type = 'post' and r.target_id = p.id and r.kind = 'love'")}`),
    ).toEqual([]);
    expect(
      await drift(sql`select id from community_comment c where reply_count <> ${count('community_comment x', 'x.parent_id = c.id')}
        or reaction_count <> ${count('community_reaction r', "r.target_type = 'comment' and r.target_id = c.id")}
        or like_count <> ${count('community_reaction r', "r.target_type = 'comment' and r.target_id = c.id and r.kind = 'like'")}`),
    ).toEqual([]);
    expect(
      await drift(sql`select user_id from community_user_stats s where follower_count <> ${count('community_follow f', 'f.followee_id = s.user_id')}
        or following_count <> ${count('community_follow f', 'f.follower_id = s.user_id')}`),
    ).toEqual([]);
  }

  it('removes posts and comments nobody answered, tombstones the rest, and leaves every counter exact', async () => {
    const gone = await signUp(t, { displayName: 'Gone Soon' });
    // Follows and blocks both ways.
    await t.follow(gone, alice);
    await t.follow(gone, bob);
    await t.follow(alice, gone);
    await t.follow(carol, gone);
    await ok(t.call(gone, 'PUT', `/users/${carol.userId}/block`));
    await ok(t.call(bob, 'PUT', `/users/${gone.userId}/block`));
    expect((await get(alice, `/users/${alice.userId}/follow`))).toMatchObject({ followerCount: 1, followingCount: 1 });

    // Alice's post mentions them; they react and comment on it.
    const alicePost = await t.post(alice, { body: `Welcome @${gone.userId}!` });
    expect(alicePost.mentionIds).toEqual([gone.userId]);
    const aliceComment = await t.comment(alice, alicePost.id, { body: 'First!' });
    for (const [who, kind] of [[gone, 'like'], [gone, 'love'], [bob, 'like']] as const) await ok(t.call(who, 'POST', `/posts/${alicePost.id}/reactions`, { kind }));
    for (const who of [gone, bob]) await ok(t.call(who, 'POST', `/comments/${aliceComment.id}/reactions`, { kind: 'like' }));
    const lonely = await t.comment(gone, alicePost.id, { body: 'nobody answers this' });
    const answered = await t.comment(gone, alicePost.id, { body: `my secret, cc @${alice.userId}` });
    const bobReply = await t.comment(bob, alicePost.id, { body: 'an answer', parentId: answered.id });
    await t.comment(gone, alicePost.id, { body: 'replying to myself', parentId: answered.id });
    await t.comment(gone, alicePost.id, { body: 'replying to Alice', parentId: aliceComment.id });
    await ok(t.call(carol, 'POST', `/comments/${answered.id}/reactions`, { kind: 'like' }));

    // Their own posts: one nobody commented on, one Alice commented on; reports both ways.
    const quiet = await t.post(gone, { body: 'quiet post', attachmentIds: ['fil_quiet'] });
    const discussed = await t.post(gone, { body: 'discussed post', attachmentIds: ['fil_photo'] });
    await ok(t.call(alice, 'POST', `/posts/${quiet.id}/reactions`, { kind: 'like' }));
    await t.comment(alice, discussed.id, { body: 'Interesting' });
    await ok(t.call(alice, 'POST', `/posts/${discussed.id}/reactions`, { kind: 'celebrate' }));
    await ok(t.call(carol, 'POST', `/posts/${quiet.id}/reports`, { reason: 'spam' }));
    await ok(t.call(alice, 'POST', `/comments/${answered.id}/reports`, { reason: 'other' }));
    await ok(t.call(gone, 'POST', `/posts/${alicePost.id}/reports`, { reason: 'spam' }));
    expect(await get(alice, `/posts/${alicePost.id}`)).toMatchObject({ commentCount: 6, reactionCount: 3 });

    await deleteAccount(gone);
    const [event] = await erasedEvents(gone.userId);
    expect(event!.scopes).toEqual(['system']);
    expect(event!.payload).toEqual({
      userId: gone.userId,
      postsRemoved: 1,
      postsTombstoned: 1,
      commentsRemoved: 3,
      commentsTombstoned: 1,
      reactionsRemoved: 3,
      // Blocking already ended two of the four follows.
      followsRemoved: 2,
      blocksRemoved: 2,
      reportsRemoved: 1,
      mentionsCleared: 1,
    });

    // Others' counters are exact: follows, reactions, comments, replies.
    expect(await get(alice, `/users/${alice.userId}/follow`)).toMatchObject({ followerCount: 0, followingCount: 0 });
    expect(await get(bob, `/users/${bob.userId}/follow`)).toMatchObject({ followerCount: 0 });
    expect(await get(carol, `/users/${carol.userId}/follow`)).toMatchObject({ followingCount: 0 });
    expect(await get(alice, `/posts/${alicePost.id}`)).toMatchObject({ commentCount: 3, reactionCount: 1, reactions: { like: 1, love: 0, insightful: 0, celebrate: 0 }, mentionIds: [] });
    expect(await get(alice, `/comments/${aliceComment.id}`)).toMatchObject({ replyCount: 0, reactionCount: 1 });
    await expectCountersExact();

    // The answered comment is a tombstone that keeps its replies; the other comments are gone.
    expect(await get(alice, `/comments/${answered.id}`)).toMatchObject({ body: '[deleted]', authorName: null, mentionIds: [], reactionCount: 0, replyCount: 1 });
    expect((await get(alice, `/posts/${alicePost.id}/comments`)).items.map((c: { id: string }) => c.id)).toEqual([aliceComment.id, answered.id]);
    expect((await get(alice, `/posts/${alicePost.id}/comments?parentId=${answered.id}`)).items.map((c: { id: string }) => c.id)).toEqual([bobReply.id]);
    expect((await t.call(alice, 'GET', `/comments/${lonely.id}`)).statusCode).toBe(404);

    // The post nobody commented on is gone; the other one keeps Alice's comment under a tombstone.
    expect((await t.call(alice, 'GET', `/posts/${quiet.id}`)).statusCode).toBe(404);
    expect(await get(alice, `/posts/${discussed.id}`)).toMatchObject({ body: '[deleted]', attachmentIds: [], commentCount: 1, reactionCount: 0 });

    // No feed or list shows their content, and their profile no longer resolves.
    expect((await get(admin, `/users/${gone.userId}/posts`)).items).toEqual([]);
    const feed = (await get(alice, '/feed?limit=100')).items.map((p: { id: string }) => p.id);
    expect(feed).toContain(alicePost.id);
    expect(feed).not.toContain(discussed.id);
    expect((await t.call(alice, 'GET', `/users/${gone.userId}/posts`)).statusCode).toBe(404);
    expect((await t.call(alice, 'GET', `/users/${gone.userId}/followers`)).statusCode).toBe(404);

    // Reports by them and on their erased content are gone; so are blocks either way.
    const reports = (await get(admin, '/moderation/reports?limit=100')).items as Array<{ reporterId: string; targetId: string }>;
    expect(reports.filter((r) => r.reporterId === gone.userId || [quiet.id, answered.id].includes(r.targetId))).toEqual([]);
    expect((await get(bob, '/blocks')).items).toEqual([]);
    for (const [table, column] of [['community_reaction', 'user_id'], ['community_follow', 'follower_id'], ['community_follow', 'followee_id'], ['community_block', 'blocker_id'], ['community_block', 'blocked_id'], ['community_user_stats', 'user_id']]) {
      expect(await db().selectFrom(table).select(column).where(column, '=', gone.userId).execute(), `${table}.${column}`).toEqual([]);
    }
  });

  it('a redelivered event makes no second job, and running the erasure again changes nothing', async () => {
    const gone = await signUp(t, { displayName: 'Twice' });
    const post = await t.post(alice, { body: 'react to me' });
    await ok(t.call(gone, 'POST', `/posts/${post.id}/reactions`, { kind: 'insightful' }));
    await t.follow(gone, bob);
    await deleteAccount(gone);

    const subscriber = t.community.subscribers!.find((s) => s.name === 'community.user-deleted')!;
    const [deleted] = (await t.eventsOf('identity.user.deleted')).filter((e) => e.payload.userId === gone.userId);
    await subscriber.handle(deleted!);
    await subscriber.handle(deleted!);
    const jobs = (await t.core.jobs.list({ limit: 1000 })).filter((j) => j.name === ERASE_JOB && (j.payload as { userId: string }).userId === gone.userId);
    expect(jobs).toHaveLength(1);

    const again = await t.community.erasure.eraseUser(gone.userId);
    expect(again).toEqual({ userId: gone.userId, postsRemoved: 0, postsTombstoned: 0, commentsRemoved: 0, commentsTombstoned: 0, reactionsRemoved: 0, followsRemoved: 0, blocksRemoved: 0, reportsRemoved: 0, mentionsCleared: 0 });
    expect(await get(alice, `/posts/${post.id}`)).toMatchObject({ reactionCount: 0, reactions: { insightful: 0 } });
    expect(await get(bob, `/users/${bob.userId}/follow`)).toMatchObject({ followerCount: 0 });
  });

  it('two nodes erasing the same account at once, in small batches, leave exact counters', async () => {
    const gone = await signUp(t, { displayName: 'Busy' });
    const posts = await Promise.all([alice, bob, carol].flatMap((who) => [t.post(who, { body: 'one' }), t.post(who, { body: 'two' })]));
    for (const post of posts) {
      for (const kind of ['like', 'love', 'celebrate']) await ok(t.call(gone, 'POST', `/posts/${post.id}/reactions`, { kind }));
      await ok(t.call(alice, 'POST', `/posts/${post.id}/reactions`, { kind: 'like' }));
      const top = await t.comment(gone, post.id, { body: 'top' });
      await t.comment(bob, post.id, { body: 'reply', parentId: top.id });
      await t.comment(gone, post.id, { body: 'reply of mine', parentId: top.id });
    }
    for (const who of [alice, bob, carol]) await t.follow(who, gone);
    // Stop the job from running first: the erasure runs on two "nodes" (services with their own batch sizes) at once.
    await t.core.jobs.enqueue(t.core.database.db, ERASE_JOB, { userId: gone.userId }, { uniqueKey: `${ERASE_JOB}:${gone.userId}`, delayMs: 3_600_000 });
    expect((await t.call(admin, 'DELETE', `/admin/users/${gone.userId}`)).statusCode).toBe(204);
    const node = (batchSize: number) => createErasureService({ db: t.core.database.db, clock: t.clock, events: t.core.events, batchSize });
    const runs = await Promise.all([node(1).eraseUser(gone.userId), node(2).eraseUser(gone.userId), node(3).eraseUser(gone.userId)]);

    const total = (key: keyof Omit<UserErasedPayload, 'userId'>) => runs.reduce((sum, r) => sum + r[key], 0);
    expect([total('reactionsRemoved'), total('commentsRemoved'), total('commentsTombstoned'), total('followsRemoved')]).toEqual([18, 6, 6, 3]);
    for (const post of posts) expect(await get(alice, `/posts/${post.id}`)).toMatchObject({ reactionCount: 1, reactions: { like: 1, love: 0, celebrate: 0 }, commentCount: 2 });
    for (const who of [alice, bob, carol]) expect(await get(who, `/users/${who.userId}/follow`)).toMatchObject({ followingCount: 0 });
    await expectCountersExact();
  });
});

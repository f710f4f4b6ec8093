import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { communityApp, type CommunityTestApp } from '../../../test/support/community.js';
import { signUp, signUpAdmin, type SignedIn } from '../../../test/support/identity.js';
import { hotScore } from './community.service.js';

describeEachDialect('community: comments and reactions', (dialect) => {
  let t: CommunityTestApp;
  let alice: SignedIn;
  let bob: SignedIn;
  let carol: SignedIn;
  let admin: SignedIn;
  beforeAll(async () => {
    t = await communityApp({ dialect });
    [alice, bob, carol] = await Promise.all([signUp(t, { displayName: 'Alice' }), signUp(t, { displayName: 'Bob' }), signUp(t, { displayName: 'Carol' })]);
    admin = await signUpAdmin(t);
  }, 180_000);
  afterAll(() => t.destroy());

  const postOf = async (id: string, who: SignedIn = alice) => (await t.call(who, 'GET', `/posts/${id}`)).json();

  it('a comment answers 201 with Location, counts on the post, and tells the post author', async () => {
    const post = await t.post(alice);
    const res = await t.call(bob, 'POST', `/posts/${post.id}/comments`, { body: 'Great post' });
    expect(res.statusCode, res.body).toBe(201);
    const comment = res.json();
    expect(res.headers.location).toBe(`/api/v1/comments/${comment.id}`);
    expect(comment).toMatchObject({ postId: post.id, parentId: null, authorId: bob.userId, authorName: 'Bob', body: 'Great post', replyCount: 0, version: 1 });
    expect((await postOf(post.id)).commentCount).toBe(1);
    const event = (await t.eventsOf('community.comment.created')).find((e) => e.payload.commentId === comment.id)!;
    expect(event.payload).toEqual({ postId: post.id, commentId: comment.id, authorId: bob.userId, postAuthorId: alice.userId, preview: 'Great post' });
    expect(event.scopes).toEqual([`user:${alice.userId}`]);
  });

  it('replies are two levels deep: a reply to a reply is refused; the parent author is told', async () => {
    const post = await t.post(alice);
    const top = await t.comment(bob, post.id, { body: 'top' });
    const reply = await t.comment(carol, post.id, { body: 'reply', parentId: top.id });
    expect(reply.parentId).toBe(top.id);
    const deeper = await t.call(alice, 'POST', `/posts/${post.id}/comments`, { body: 'deeper', parentId: reply.id });
    expect(deeper.statusCode).toBe(422);
    expect(deeper.json().code).toBe('COMMUNITY_REPLY_TOO_DEEP');
    const elsewhere = await t.post(bob);
    const wrongPost = await t.call(alice, 'POST', `/posts/${elsewhere.id}/comments`, { body: 'x', parentId: top.id });
    expect(wrongPost.json().code).toBe('COMMUNITY_PARENT_NOT_FOUND');

    const event = (await t.eventsOf('community.comment.created')).find((e) => e.payload.commentId === reply.id)!;
    expect(event.payload).toMatchObject({ parentCommentId: top.id, parentAuthorId: bob.userId, postAuthorId: alice.userId, authorId: carol.userId });
    expect(new Set(event.scopes)).toEqual(new Set([`user:${alice.userId}`, `user:${bob.userId}`]));

    const topLevel = (await t.call(alice, 'GET', `/posts/${post.id}/comments`)).json();
    expect(topLevel.items.map((c: { id: string }) => c.id)).toEqual([top.id]);
    expect(topLevel.items[0].replyCount).toBe(1);
    const replies = (await t.call(alice, 'GET', `/posts/${post.id}/comments?parentId=${top.id}`)).json();
    expect(replies.items.map((c: { id: string }) => c.id)).toEqual([reply.id]);
    expect((await postOf(post.id)).commentCount).toBe(2);
  });

  it('comments page oldest first without repeats', async () => {
    const post = await t.post(alice);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await t.comment(bob, post.id, { body: `c${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Array<{ id: string }>; nextCursor: string | null } = (await t.call(alice, 'GET', `/posts/${post.id}/comments?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json();
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);
  });

  it('the author edits a comment (If-Match); others may not; the post author and admins may delete it', async () => {
    const post = await t.post(alice);
    const comment = await t.comment(bob, post.id, { body: 'typo' });
    expect((await t.call(alice, 'PATCH', `/comments/${comment.id}`, { body: 'hijack' })).statusCode).toBe(403);
    const edited = await t.call(bob, 'PATCH', `/comments/${comment.id}`, { body: 'fixed' }, { 'if-match': '"1"' });
    expect(edited.json()).toMatchObject({ body: 'fixed', version: 2 });
    expect((await t.call(bob, 'PATCH', `/comments/${comment.id}`, { body: 'again' }, { 'if-match': '"1"' })).statusCode).toBe(412);
    expect((await t.call(carol, 'DELETE', `/comments/${comment.id}`)).statusCode).toBe(403);
    expect((await t.call(alice, 'DELETE', `/comments/${comment.id}`)).statusCode).toBe(204);
    expect((await t.call(bob, 'GET', `/comments/${comment.id}`)).statusCode).toBe(404);
    const other = await t.comment(carol, post.id);
    expect((await t.call(admin, 'DELETE', `/comments/${other.id}`)).statusCode).toBe(204);
    expect((await postOf(post.id)).commentCount).toBe(0);
  });

  it('deleting a top-level comment removes its replies and keeps every counter right', async () => {
    const post = await t.post(alice);
    const top = await t.comment(bob, post.id);
    const reply1 = await t.comment(carol, post.id, { parentId: top.id });
    await t.comment(alice, post.id, { parentId: top.id });
    const keep = await t.comment(carol, post.id);
    expect((await postOf(post.id)).commentCount).toBe(4);
    expect((await t.call(carol, 'DELETE', `/comments/${reply1.id}`)).statusCode).toBe(204);
    expect((await t.call(alice, 'GET', `/comments/${top.id}`)).json().replyCount).toBe(1);
    expect((await postOf(post.id)).commentCount).toBe(3);
    expect((await t.call(bob, 'DELETE', `/comments/${top.id}`)).statusCode).toBe(204);
    expect((await postOf(post.id)).commentCount).toBe(1);
    const left = (await t.call(alice, 'GET', `/posts/${post.id}/comments`)).json().items.map((c: { id: string }) => c.id);
    expect(left).toEqual([keep.id]);
    const deleted = (await t.eventsOf('community.comment.deleted')).find((e) => e.payload.commentId === top.id)!;
    expect(deleted.payload).toMatchObject({ removed: 2, deletedBy: bob.userId });
  });

  it('one reaction per user and kind: 201, then 200; counts by kind; taking it back', async () => {
    const post = await t.post(alice);
    const first = await t.call(bob, 'POST', `/posts/${post.id}/reactions`, { kind: 'like' });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ targetType: 'post', targetId: post.id, userId: bob.userId, userName: 'Bob', kind: 'like' });
    expect((await t.call(bob, 'POST', `/posts/${post.id}/reactions`, { kind: 'like' })).statusCode).toBe(200);
    expect((await t.call(bob, 'POST', `/posts/${post.id}/reactions`, { kind: 'love' })).statusCode).toBe(201);
    expect((await t.call(carol, 'POST', `/posts/${post.id}/reactions`, { kind: 'like' })).statusCode).toBe(201);
    expect((await t.call(bob, 'POST', `/posts/${post.id}/reactions`, { kind: 'angry' })).statusCode).toBe(422);
    const seen = await postOf(post.id, bob);
    expect(seen).toMatchObject({ reactionCount: 3, reactions: { like: 2, love: 1, insightful: 0, celebrate: 0 } });
    expect(seen.myReactions.sort()).toEqual(['like', 'love']);
    const list = (await t.call(alice, 'GET', `/posts/${post.id}/reactions?kind=like`)).json();
    expect(list.items.map((r: { userId: string }) => r.userId).sort()).toEqual([bob.userId, carol.userId].sort());

    const events = (await t.eventsOf('community.reaction.created')).filter((e) => e.payload.targetId === post.id);
    expect(events).toHaveLength(3);
    expect(events[0]!.payload).toEqual({ targetType: 'post', targetId: post.id, postId: post.id, authorId: alice.userId, userId: bob.userId, kind: 'like' });

    expect((await t.call(bob, 'DELETE', `/posts/${post.id}/reactions/like`)).statusCode).toBe(204);
    expect((await t.call(bob, 'DELETE', `/posts/${post.id}/reactions/like`)).statusCode).toBe(204);
    expect(await postOf(post.id)).toMatchObject({ reactionCount: 2, reactions: { like: 1, love: 1 } });
  });

  it('reactions on comments count on the comment and tell its author', async () => {
    const post = await t.post(alice);
    const comment = await t.comment(bob, post.id);
    expect((await t.call(carol, 'POST', `/comments/${comment.id}/reactions`, { kind: 'insightful' })).statusCode).toBe(201);
    const seen = (await t.call(carol, 'GET', `/comments/${comment.id}`)).json();
    expect(seen).toMatchObject({ reactionCount: 1, reactions: { insightful: 1 }, myReactions: ['insightful'] });
    const event = (await t.eventsOf('community.reaction.created')).find((e) => e.payload.targetId === comment.id)!;
    expect(event.payload).toEqual({ targetType: 'comment', targetId: comment.id, postId: post.id, authorId: bob.userId, userId: carol.userId, kind: 'insightful' });
    expect(event.scopes).toEqual([`user:${bob.userId}`]);
    expect((await t.call(carol, 'GET', `/comments/${comment.id}/reactions`)).json().items).toHaveLength(1);
    expect((await t.call(carol, 'DELETE', `/comments/${comment.id}/reactions/insightful`)).statusCode).toBe(204);
    expect((await t.call(carol, 'GET', `/comments/${comment.id}`)).json().reactionCount).toBe(0);
  });

  it('replies written while their comment is deleted never outlive it, and counters match the rows', async () => {
    const post = await t.post(alice);
    const top = await t.comment(bob, post.id);
    const results = await Promise.all([
      ...[alice, carol, admin].map((who) => t.call(who, 'POST', `/posts/${post.id}/comments`, { body: 'reply', parentId: top.id })),
      t.call(bob, 'DELETE', `/comments/${top.id}`),
      ...[alice, carol].map((who) => t.call(who, 'POST', `/posts/${post.id}/comments`, { body: 'another top-level' })),
      ...[alice, carol].map((who) => t.call(who, 'POST', `/comments/${top.id}/reactions`, { kind: 'like' })),
    ]);
    expect(results.filter((r) => r.statusCode >= 500).map((r) => r.body)).toEqual([]);
    const rows = await t.core.database.db.selectFrom('community_comment').select(['id', 'parent_id']).where('post_id', '=', post.id).execute();
    expect(rows.filter((r) => r.parent_id !== null && !rows.some((p) => p.id === r.parent_id))).toEqual([]);
    expect((await postOf(post.id)).commentCount).toBe(rows.length);
    const orphans = await t.core.database.db.selectFrom('community_reaction').select('target_id').where('target_id', '=', top.id).execute();
    expect(orphans).toEqual([]);
  });

  it("the stored \"top\" score follows the post's counts as reactions and comments come and go", async () => {
    const post = await t.post(alice);
    const stored = () => t.core.database.db.selectFrom('community_post').select(['created_at', 'reaction_count', 'comment_count', 'hot_score']).where('id', '=', post.id).executeTakeFirstOrThrow();
    const expectScoreOfCounts = async (reactions: number, comments: number) => {
      const row = await stored();
      expect([row.reaction_count, row.comment_count]).toEqual([reactions, comments]);
      expect(row.hot_score).toBeCloseTo(hotScore(row), 12);
    };
    await expectScoreOfCounts(0, 0);
    await Promise.all([bob, carol, admin].map((who) => t.call(who, 'POST', `/posts/${post.id}/reactions`, { kind: 'celebrate' })));
    await expectScoreOfCounts(3, 0);
    const comment = await t.comment(bob, post.id);
    await t.comment(carol, post.id, { parentId: comment.id });
    await expectScoreOfCounts(3, 2);
    expect((await t.call(bob, 'DELETE', `/posts/${post.id}/reactions/celebrate`)).statusCode).toBe(204);
    expect((await t.call(bob, 'DELETE', `/comments/${comment.id}`)).statusCode).toBe(204);
    await expectScoreOfCounts(2, 0);
    expect(hotScore(await stored())).toBeGreaterThan(hotScore({ ...(await stored()), reaction_count: 1 }));
  });

  it('concurrent reactions and comments leave exact counters', async () => {
    const post = await t.post(alice);
    const people = [alice, bob, carol, admin];
    const calls = [];
    for (const who of people) {
      for (const kind of ['like', 'love', 'insightful', 'celebrate']) {
        // Every reaction twice at once: the duplicate must not count.
        calls.push(t.call(who, 'POST', `/posts/${post.id}/reactions`, { kind }), t.call(who, 'POST', `/posts/${post.id}/reactions`, { kind }));
      }
      for (let i = 0; i < 3; i++) calls.push(t.call(who, 'POST', `/posts/${post.id}/comments`, { body: `c${i}` }));
    }
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.statusCode >= 300).map((r) => r.body)).toEqual([]);
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(16 + 12);
    expect(await postOf(post.id)).toMatchObject({ reactionCount: 16, commentCount: 12, reactions: { like: 4, love: 4, insightful: 4, celebrate: 4 } });
    const counted = await t.core.database.db.selectFrom('community_post').select(['created_at', 'reaction_count', 'comment_count', 'hot_score']).where('id', '=', post.id).executeTakeFirstOrThrow();
    expect(counted.hot_score).toBeCloseTo(hotScore(counted), 12);

    const removals = people.flatMap((who) => [t.call(who, 'DELETE', `/posts/${post.id}/reactions/like`), t.call(who, 'DELETE', `/posts/${post.id}/reactions/like`)]);
    await Promise.all(removals);
    expect(await postOf(post.id)).toMatchObject({ reactionCount: 12, reactions: { like: 0, love: 4 } });
    const stored = await t.core.database.db.selectFrom('community_reaction').select((eb) => eb.fn.countAll<number>().as('n')).where('post_id', '=', post.id).executeTakeFirst();
    expect(Number(stored!.n)).toBe(12);
  });
});

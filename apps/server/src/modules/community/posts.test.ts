import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { communityApp, type CommunityTestApp } from '../../../test/support/community.js';
import { signUp, signUpAdmin, type SignedIn } from '../../../test/support/identity.js';

describeEachDialect('community: posts', (dialect) => {
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

  it('writing a post answers 201 with Location and ETag, and emits community.post.created', async () => {
    const res = await t.call(alice, 'POST', '/posts', { body: 'First *post*', attachmentIds: ['fil_1'] });
    expect(res.statusCode, res.body).toBe(201);
    const post = res.json();
    expect(res.headers.location).toBe(`/api/v1/posts/${post.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(post).toMatchObject({ authorId: alice.userId, authorName: 'Alice', body: 'First *post*', attachmentIds: ['fil_1'], visibility: 'public', courseId: null, commentCount: 0, reactionCount: 0, version: 1, pinned: false });
    const events = await t.eventsOf('community.post.created');
    const event = events.find((e) => e.payload.postId === post.id)!;
    expect(event.payload).toEqual({ postId: post.id, authorId: alice.userId, visibility: 'public' });
    expect(event.scopes).toContain(`user:${alice.userId}`);
  });

  it('a guest cannot read or write posts; an API key without community:post cannot write', async () => {
    const post = await t.post(alice);
    expect((await t.call(null, 'GET', `/posts/${post.id}`)).statusCode).toBe(401);
    expect((await t.call(null, 'POST', '/posts', { body: 'x' })).statusCode).toBe(401);
    const key = (await t.call(alice, 'POST', '/api-keys', { name: 'read', permissions: ['profile:edit'] })).json().key as string;
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${key}` }, payload: { body: 'x' } });
    expect(res.statusCode).toBe(403);
  });

  it('a followers-only post is visible to its author and followers, and "not found" for anyone else', async () => {
    const post = await t.post(alice, { visibility: 'followers', body: 'for my followers' });
    expect((await t.call(alice, 'GET', `/posts/${post.id}`)).statusCode).toBe(200);
    const hidden = await t.call(carol, 'GET', `/posts/${post.id}`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().code).toBe('COMMUNITY_POST_NOT_FOUND');
    expect((await t.call(carol, 'POST', `/posts/${post.id}/comments`, { body: 'hi' })).statusCode).toBe(404);
    expect((await t.call(carol, 'POST', `/posts/${post.id}/reactions`, { kind: 'like' })).statusCode).toBe(404);
    await t.follow(bob, alice);
    expect((await t.call(bob, 'GET', `/posts/${post.id}`)).statusCode).toBe(200);
    expect((await t.call(admin, 'GET', `/posts/${post.id}`)).statusCode).toBe(200);
  });

  it('the author edits with If-Match; a stale version is 412 and changes nothing', async () => {
    const post = await t.post(alice, { body: 'v1' });
    const ok = await t.call(alice, 'PATCH', `/posts/${post.id}`, { body: 'v2' }, { 'if-match': '"1"' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ body: 'v2', version: 2 });
    expect(ok.headers.etag).toBe('"2"');
    const stale = await t.call(alice, 'PATCH', `/posts/${post.id}`, { body: 'v3' }, { 'if-match': '"1"' });
    expect(stale.statusCode).toBe(412);
    const staleBody = await t.call(alice, 'PATCH', `/posts/${post.id}`, { body: 'v3', version: 1 });
    expect(staleBody.statusCode).toBe(412);
    expect((await t.call(alice, 'GET', `/posts/${post.id}`)).json()).toMatchObject({ body: 'v2', version: 2 });
    const viaBody = await t.call(alice, 'PATCH', `/posts/${post.id}`, { visibility: 'followers', version: 2 });
    expect(viaBody.json()).toMatchObject({ visibility: 'followers', version: 3 });
    const updated = (await t.eventsOf('community.post.updated')).filter((e) => e.payload.postId === post.id);
    expect(updated.map((e) => e.payload.fields)).toEqual([['body'], ['visibility']]);
  });

  it('nobody but the author edits a post; the author or an admin deletes it', async () => {
    const post = await t.post(alice);
    const edit = await t.call(bob, 'PATCH', `/posts/${post.id}`, { body: 'mine now' });
    expect(edit.statusCode).toBe(403);
    expect((await t.call(admin, 'PATCH', `/posts/${post.id}`, { body: 'admin edit' })).statusCode).toBe(403);
    expect((await t.call(bob, 'DELETE', `/posts/${post.id}`)).statusCode).toBe(403);
    expect((await t.call(alice, 'GET', `/posts/${post.id}`)).json().body).toBe('Hello **world**');

    expect((await t.call(alice, 'DELETE', `/posts/${post.id}`, undefined, { 'if-match': '"9"' })).statusCode).toBe(412);
    await t.comment(bob, post.id);
    expect((await t.call(alice, 'DELETE', `/posts/${post.id}`)).statusCode).toBe(204);
    expect((await t.call(alice, 'GET', `/posts/${post.id}`)).statusCode).toBe(404);
    const comments = await t.core.database.db.selectFrom('community_comment').selectAll().where('post_id', '=', post.id).execute();
    expect(comments).toEqual([]);

    const other = await t.post(bob);
    expect((await t.call(admin, 'DELETE', `/posts/${other.id}`)).statusCode).toBe(204);
    const deleted = (await t.eventsOf('community.post.deleted')).find((e) => e.payload.postId === other.id)!;
    expect(deleted.payload).toEqual({ postId: other.id, authorId: bob.userId, deletedBy: admin.userId });
  });

  it('mentions: explicit ids and @usr_ tokens notify who can see the post; unknown explicit ids are 422', async () => {
    const post = await t.post(alice, { body: `Thanks @${bob.userId} and @usr_nobody`, mentionIds: [carol.userId] });
    expect(new Set(post.mentionIds)).toEqual(new Set([bob.userId, carol.userId]));
    const mentions = (await t.eventsOf('community.mention.created')).filter((e) => e.payload.postId === post.id);
    expect(mentions.map((e) => e.payload.userId).sort()).toEqual([bob.userId, carol.userId].sort());
    const toBob = mentions.find((e) => e.payload.userId === bob.userId)!;
    expect(toBob.payload).toEqual({ userId: bob.userId, authorId: alice.userId, postId: post.id });
    expect(toBob.scopes).toEqual([`user:${bob.userId}`]);

    const unknown = await t.call(alice, 'POST', '/posts', { body: 'hi', mentionIds: ['usr_doesnotexist'] });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().code).toBe('COMMUNITY_MENTION_UNKNOWN');

    // Carol does not follow Alice: mentioned in a followers-only post, she is not told about it.
    const secret = await t.post(alice, { visibility: 'followers', body: 'psst', mentionIds: [bob.userId, carol.userId] });
    const secretMentions = (await t.eventsOf('community.mention.created')).filter((e) => e.payload.postId === secret.id);
    expect(secretMentions.map((e) => e.payload.userId)).toEqual([bob.userId]);

    // An edit notifies only the newly mentioned.
    const edited = await t.call(alice, 'PATCH', `/posts/${post.id}`, { body: `Thanks @${bob.userId} and @${admin.userId}` });
    expect(edited.statusCode, edited.body).toBe(200);
    const after = (await t.eventsOf('community.mention.created')).filter((e) => e.payload.postId === post.id);
    expect(after.map((e) => e.payload.userId).sort()).toEqual([bob.userId, carol.userId, admin.userId].sort());
  });

  it('bad input is a 4xx problem: empty body, unknown field, course without courseId, bad cursor', async () => {
    expect((await t.call(alice, 'POST', '/posts', { body: '   ' })).statusCode).toBe(422);
    expect((await t.call(alice, 'POST', '/posts', { body: 'x', extra: 1 })).statusCode).toBe(422);
    const course = await t.call(alice, 'POST', '/posts', { body: 'x', visibility: 'course' });
    expect(course.statusCode).toBe(422);
    expect(course.json().code).toBe('COMMUNITY_COURSE_REQUIRED');
    const post = await t.post(alice);
    expect((await t.call(alice, 'GET', `/posts/${post.id}/comments?cursor=garbage`)).statusCode).toBe(400);
  });
});

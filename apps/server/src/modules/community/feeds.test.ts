import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { communityApp, type CommunityTestApp } from '../../../test/support/community.js';
import { signUp, signUpAdmin, type SignedIn } from '../../../test/support/identity.js';
import { permissionsOf } from '../identity/index.js';
import { hotScore, type Viewer } from './community.service.js';

type PageBody = { items: Array<{ id: string; body: string }>; nextCursor: string | null; pinned?: Array<{ id: string }> };

describe('community: the "top" score', () => {
  const at = (iso: string, reactions: number, comments: number) => hotScore({ created_at: iso, reaction_count: reactions, comment_count: comments });
  it('ten times the engagement is worth 12.5 hours of recency', () => {
    expect(at('2026-01-01T12:30:00.000Z', 0, 0)).toBeCloseTo(at('2026-01-01T00:00:00.000Z', 9, 0), 9);
    expect(at('2026-01-01T00:00:00.000Z', 3, 3)).toBeCloseTo(at('2026-01-01T00:00:00.000Z', 9, 0), 9);
  });
  it('a day-newer quiet post outranks a post with ten reactions; an hour-newer one does not', () => {
    expect(at('2026-01-02T01:00:00.000Z', 0, 0)).toBeGreaterThan(at('2026-01-01T00:00:00.000Z', 10, 0));
    expect(at('2026-01-01T01:00:00.000Z', 0, 0)).toBeLessThan(at('2026-01-01T00:00:00.000Z', 10, 0));
  });
});

describeEachDialect('community: feeds', (dialect) => {
  let t: CommunityTestApp;
  let alice: SignedIn;
  let bob: SignedIn;
  let carol: SignedIn;
  let admin: SignedIn;
  let courseId: string;
  beforeAll(async () => {
    t = await communityApp({ dialect });
    [alice, bob, carol] = await Promise.all([signUp(t, { displayName: 'Alice' }), signUp(t, { displayName: 'Bob' }), signUp(t, { displayName: 'Carol' })]);
    admin = await signUpAdmin(t);
    const course = await t.call(admin, 'POST', '/courses', { title: 'Community course', status: 'published', visibility: 'public' });
    expect(course.statusCode, course.body).toBe(201);
    courseId = course.json().id;
    const enrolled = await t.call(alice, 'POST', `/courses/${courseId}/enrollments`, {});
    expect(enrolled.statusCode, enrolled.body).toBeLessThan(300);
    await t.follow(alice, bob);
  }, 180_000);
  afterAll(() => t.destroy());

  const ids = (page: PageBody) => page.items.map((p) => p.id);
  const get = async (who: SignedIn, url: string): Promise<PageBody> => {
    const res = await t.call(who, 'GET', url);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  async function all(who: SignedIn, url: string, limit: number): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(who, `${url}${url.includes('?') ? '&' : '?'}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...ids(page));
      cursor = page.nextCursor;
    } while (cursor);
    return seen;
  }

  it('the home feed has my posts, the people I follow (followers-only too) and my courses, newest first', async () => {
    t.clock.advance(60_000);
    const mine = await t.post(alice, { body: 'mine' });
    const bobPublic = await t.post(bob, { body: 'bob public' });
    const bobFollowers = await t.post(bob, { body: 'bob followers', visibility: 'followers' });
    const carolPublic = await t.post(carol, { body: 'carol public' });
    const coursePost = await t.post(admin, { body: 'course news', courseId });
    const feed = ids(await get(alice, '/feed?limit=100'));
    expect(feed.slice(0, 4)).toEqual([coursePost.id, bobFollowers.id, bobPublic.id, mine.id]);
    expect(feed).not.toContain(carolPublic.id);
    // Carol follows nobody and is in no course: only her own post.
    expect(ids(await get(carol, '/feed'))).toEqual([carolPublic.id]);
  });

  it("a user's posts show only what the caller may see", async () => {
    const pub = await t.post(bob, { body: 'p' });
    const priv = await t.post(bob, { body: 'f', visibility: 'followers' });
    const asAlice = ids(await get(alice, `/users/${bob.userId}/posts?limit=100`));
    expect(asAlice).toEqual(expect.arrayContaining([pub.id, priv.id]));
    const asCarol = ids(await get(carol, `/users/${bob.userId}/posts?limit=100`));
    expect(asCarol).toContain(pub.id);
    expect(asCarol).not.toContain(priv.id);
    expect(ids(await get(bob, `/users/${bob.userId}/posts?limit=100`))).toEqual(expect.arrayContaining([pub.id, priv.id]));
    const aliceCourse = await t.post(alice, { body: 'in class', courseId });
    expect(ids(await get(carol, `/users/${alice.userId}/posts?limit=100`))).not.toContain(aliceCourse.id);
    expect(ids(await get(admin, `/users/${alice.userId}/posts?limit=100`))).toContain(aliceCourse.id);
    expect((await t.call(carol, 'GET', '/users/usr_ghost/posts')).statusCode).toBe(404);
  });

  it('course posts are for members, staff and moderators only', async () => {
    const post = await t.post(alice, { body: 'course question', courseId });
    expect(post).toMatchObject({ visibility: 'course', courseId });
    const created = (await t.eventsOf('community.post.created')).find((e) => e.payload.postId === post.id)!;
    expect(created.payload).toEqual({ postId: post.id, authorId: alice.userId, visibility: 'course', courseId });
    expect(created.scopes).toContain(`course:${courseId}`);
    expect((await t.call(carol, 'GET', `/posts/${post.id}`)).statusCode).toBe(404);
    expect((await t.call(carol, 'GET', `/courses/${courseId}/feed`)).json().code).toBe('COMMUNITY_COURSE_NOT_FOUND');
    const notMember = await t.call(carol, 'POST', '/posts', { body: 'sneaky', courseId });
    expect(notMember.statusCode).toBe(404);
    expect(ids(await get(admin, `/courses/${courseId}/feed?limit=100`))).toContain(post.id);
    expect(ids(await get(alice, `/courses/${courseId}/feed?limit=100`))).toContain(post.id);
    expect((await t.call(alice, 'GET', '/courses/crs_nope/feed')).statusCode).toBe(404);
  });

  it('course staff pin posts; pinned posts lead the first page; students and other posts cannot be pinned', async () => {
    const post = await t.post(alice, { body: 'pin me', courseId });
    await t.post(alice, { body: 'later', courseId });
    expect((await t.call(alice, 'PUT', `/posts/${post.id}/pin`)).statusCode).toBe(403);
    const pinned = await t.call(admin, 'PUT', `/posts/${post.id}/pin`);
    expect(pinned.statusCode, pinned.body).toBe(200);
    expect(pinned.json()).toMatchObject({ pinned: true, version: 2 });
    const feed = await get(alice, `/courses/${courseId}/feed?limit=100`);
    expect(feed.pinned!.map((p) => p.id)).toEqual([post.id]);
    expect(ids(feed)).not.toContain(post.id);
    const event = (await t.eventsOf('community.post.pinned')).find((e) => e.payload.postId === post.id)!;
    expect(event.payload).toEqual({ postId: post.id, courseId, byId: admin.userId });
    const open = await t.post(alice, { body: 'public' });
    expect((await t.call(admin, 'PUT', `/posts/${open.id}/pin`)).json().code).toBe('COMMUNITY_NOT_A_COURSE_POST');
    expect((await t.call(admin, 'DELETE', `/posts/${post.id}/pin`)).statusCode).toBe(204);
    expect((await get(alice, `/courses/${courseId}/feed?limit=100`)).pinned).toEqual([]);
  });

  it('paging the feed while new posts arrive neither repeats nor skips (recent)', async () => {
    const author = await signUp(t);
    const reader = await signUp(t);
    await t.follow(reader, author);
    const original: string[] = [];
    for (let i = 0; i < 7; i++) original.unshift((await t.post(author, { body: `old ${i}` })).id);
    const first = await get(reader, '/feed?limit=3');
    const seen = ids(first);
    let cursor = first.nextCursor;
    const arrived: string[] = [];
    while (cursor) {
      arrived.push((await t.post(author, { body: 'new' })).id, (await t.post(reader, { body: 'mine, new' })).id);
      const page = await get(reader, `/feed?limit=3&cursor=${cursor}`);
      seen.push(...ids(page));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(original);
    expect(seen.filter((id) => arrived.includes(id))).toEqual([]);
  });

  it('"top" ranks engagement against age, and pages without repeats or skips while posts arrive', async () => {
    const author = await signUp(t);
    const reader = await signUp(t);
    await t.follow(reader, author);
    const popular = await t.post(author, { body: 'popular' });
    for (const who of [alice, bob, carol, admin, reader]) {
      for (const kind of ['like', 'love']) await t.call(who, 'POST', `/posts/${popular.id}/reactions`, { kind });
    }
    t.clock.advance(5 * 60_000);
    const fresh = await t.post(author, { body: 'fresh, quiet' });
    const top = ids(await get(reader, `/users/${author.userId}/posts?sort=top`));
    expect(top).toEqual([popular.id, fresh.id]);
    expect(ids(await get(reader, `/users/${author.userId}/posts?sort=recent`))).toEqual([fresh.id, popular.id]);

    const original = [...top];
    for (let i = 0; i < 6; i++) {
      t.clock.advance(1000);
      original.push((await t.post(author, { body: `more ${i}` })).id);
    }
    const expected = ids(await get(reader, `/users/${author.userId}/posts?sort=top&limit=100`));
    expect(new Set(expected)).toEqual(new Set(original));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(reader, `/users/${author.userId}/posts?sort=top&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...ids(page));
      cursor = page.nextCursor;
      t.clock.advance(1000);
      await t.post(author, { body: 'arrives while paging' });
    } while (cursor);
    const seenOriginal = seen.filter((id) => original.includes(id));
    expect(seenOriginal).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('"top" home feed: paging while posts arrive and shown posts gain reactions and comments repeats and skips nothing', async () => {
    const author = await signUp(t);
    const reader = await signUp(t);
    for (const who of [reader, alice, bob, carol]) await t.follow(who, author);
    const react = async (who: SignedIn, postId: string, kind: string) => expect((await t.call(who, 'POST', `/posts/${postId}/reactions`, { kind })).statusCode).toBe(201);
    for (let i = 0; i < 9; i++) {
      t.clock.advance(20_000);
      const post = await t.post(author, { body: `ranked ${i}`, visibility: i % 2 ? 'followers' : 'public' });
      // Engagement that reorders them against age: every third post has ten times the reactions.
      for (const who of i % 3 ? [alice] : [alice, bob, carol, admin]) await react(who, post.id, 'like');
    }
    const expected = ids(await get(reader, '/feed?sort=top&limit=100'));
    expect(expected).not.toEqual(ids(await get(reader, '/feed?sort=recent&limit=100')));
    const seen: string[] = [];
    const arrived: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(reader, `/feed?sort=top&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...ids(page));
      cursor = page.nextCursor;
      // Meanwhile a post arrives, and the posts just shown rise: no shown post may come back, none may be skipped.
      t.clock.advance(1000);
      const post = await t.post(author, { body: 'arrives while paging' });
      arrived.push(post.id);
      // A popular newcomer ranks first, above the cursor (an offset would now repeat the last item shown).
      if (arrived.length % 2) for (const who of [alice, bob, carol, admin]) await react(who, post.id, 'love');
      for (const shown of ids(page)) {
        await react(bob, shown, 'celebrate');
        await t.comment(carol, shown, { body: 'late comment' });
      }
    } while (cursor);
    // Quiet newcomers rank below the engaged posts, after the cursor: they are shown, once; popular ones are not.
    expect(seen.filter((id) => !arrived.includes(id))).toEqual(expected);
    expect(seen.filter((id) => arrived.filter((_, n) => n % 2 === 0).includes(id))).toEqual([]);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('a cursor from one sort is refused by the other', async () => {
    const page = await get(alice, '/feed?limit=1&sort=top');
    expect(page.nextCursor).not.toBeNull();
    expect((await t.call(alice, 'GET', `/feed?sort=recent&cursor=${page.nextCursor}`)).statusCode).toBe(400);
  });
});

// Days pass between posts here, longer than an access token lives: the service is called directly.
describeEachDialect('community: the home feed over weeks', (dialect) => {
  let t: CommunityTestApp;
  beforeAll(async () => {
    t = await communityApp({ dialect });
  }, 180_000);
  afterAll(() => t.destroy());

  it('merges my posts, my follows and my courses newest first: each post once, none skipped, across long gaps', async () => {
    const [reader, friend, stranger, admin] = await Promise.all([signUp(t), signUp(t), signUp(t), signUpAdmin(t)]);
    await t.follow(reader, friend);
    const newCourse = async (title: string) => (await t.call(admin, 'POST', '/courses', { title, status: 'published', visibility: 'public' })).json().id as string;
    const [courseId, otherCourseId] = [await newCourse('The reader’s course'), await newCourse('Not the reader’s course')];
    for (const [who, course] of [[reader, courseId], [friend, otherCourseId]] as const) {
      expect((await t.call(who, 'POST', `/courses/${course}/enrollments`, {})).statusCode).toBeLessThan(300);
    }
    const as = (who: SignedIn, roles: Viewer['roles'] = ['student']): Viewer => ({ userId: who.userId, roles, permissions: permissionsOf(roles) });
    const post = (who: Viewer, body: string, more: object = {}) => t.community.service.createPost(who, { body, ...more });
    const [me, them, nobody, staff] = [as(reader), as(friend), as(stranger), as(admin, ['admin'])];

    const expected: Array<{ id: string; createdAt: string }> = [];
    const day = 86_400_000;
    // Gaps of weeks, days and minutes, and posts at one instant (ordered by id).
    for (const gap of [0, 50 * day, 3 * day, 30 * 60_000, 10 * 3_600_000, 0]) {
      t.clock.advance(gap);
      expected.push(await post(them, 'friend'), await post(them, 'friend, followers only', { visibility: 'followers' }));
      expected.push(await post(me, 'mine'), await post(me, 'mine, in class', { courseId }));
      expected.push(await post(staff, 'course news', { courseId }));
      await post(nobody, 'not followed');
      await post(them, 'in a course the reader is not in', { courseId: otherCourseId });
    }
    const newestFirst = expected
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1))
      .map((p) => p.id);
    for (const limit of [4, 100]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await t.community.service.homeFeed(me, { limit, cursor });
        seen.push(...page.items.map((p) => p.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(newestFirst);
    }
  });
});

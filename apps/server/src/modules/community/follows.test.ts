import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { communityApp, type CommunityTestApp } from '../../../test/support/community.js';
import { signUp, type SignedIn } from '../../../test/support/identity.js';

describeEachDialect('community: follows', (dialect) => {
  let t: CommunityTestApp;
  let users: SignedIn[];
  beforeAll(async () => {
    t = await communityApp({ dialect });
    users = await Promise.all(Array.from({ length: 6 }, (_, i) => signUp(t, { displayName: `User ${i}` })));
  }, 180_000);
  afterAll(() => t.destroy());

  it('following is idempotent, counts both sides, and tells the followee once', async () => {
    const [a, b] = users as [SignedIn, SignedIn];
    const state = await t.follow(a, b);
    expect(state).toEqual({ userId: b.userId, following: true, followedBy: false, followerCount: 1, followingCount: 0 });
    expect(await t.follow(a, b)).toMatchObject({ followerCount: 1 });
    const events = (await t.eventsOf('community.follow.created')).filter((e) => e.payload.followeeId === b.userId);
    expect(events.map((e) => e.payload)).toEqual([{ followerId: a.userId, followeeId: b.userId }]);
    expect(events[0]!.scopes).toEqual([`user:${b.userId}`]);
    expect((await t.call(b, 'GET', `/users/${a.userId}/follow`)).json()).toEqual({ userId: a.userId, following: false, followedBy: true, followerCount: 0, followingCount: 1 });

    const followers = (await t.call(a, 'GET', `/users/${b.userId}/followers`)).json();
    expect(followers.items).toEqual([{ userId: a.userId, displayName: 'User 0', since: expect.any(String) }]);
    const following = (await t.call(b, 'GET', `/users/${a.userId}/following`)).json();
    expect(following.items.map((e: { userId: string }) => e.userId)).toEqual([b.userId]);

    expect((await t.call(a, 'DELETE', `/users/${b.userId}/follow`)).statusCode).toBe(204);
    expect((await t.call(a, 'DELETE', `/users/${b.userId}/follow`)).statusCode).toBe(204);
    expect((await t.call(a, 'GET', `/users/${b.userId}/follow`)).json()).toMatchObject({ following: false, followerCount: 0 });
    expect(await t.eventsOf('community.follow.deleted')).toHaveLength(1);
  });

  it('nobody follows themselves or an account that does not exist', async () => {
    const [a] = users as [SignedIn];
    const self = await t.call(a, 'PUT', `/users/${a.userId}/follow`);
    expect(self.statusCode).toBe(422);
    expect(self.json().code).toBe('COMMUNITY_CANNOT_FOLLOW_SELF');
    const ghost = await t.call(a, 'PUT', '/users/usr_ghost/follow');
    expect(ghost.statusCode).toBe(404);
    expect(ghost.json().code).toBe('COMMUNITY_USER_NOT_FOUND');
    expect((await t.call(a, 'GET', '/users/usr_ghost/followers')).statusCode).toBe(404);
  });

  it('concurrent follows and unfollows leave exact follower counts', async () => {
    const star = users[5]!;
    const fans = users.slice(0, 5);
    await Promise.all(fans.flatMap((fan) => [t.call(fan, 'PUT', `/users/${star.userId}/follow`), t.call(fan, 'PUT', `/users/${star.userId}/follow`)]));
    expect((await t.call(star, 'GET', `/users/${star.userId}/follow`)).json().followerCount).toBe(5);
    await Promise.all(fans.slice(0, 3).flatMap((fan) => [t.call(fan, 'DELETE', `/users/${star.userId}/follow`), t.call(fan, 'DELETE', `/users/${star.userId}/follow`)]));
    expect((await t.call(star, 'GET', `/users/${star.userId}/follow`)).json().followerCount).toBe(2);
    for (const fan of fans) expect((await t.call(fan, 'GET', `/users/${fan.userId}/follow`)).json().followingCount).toBe(fans.indexOf(fan) < 3 ? 0 : 1);
  });

  it('follower lists page newest first without repeats', async () => {
    const target = users[4]!;
    for (const fan of users.slice(0, 4)) {
      await t.follow(fan, target);
      t.clock.advance(1000);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Array<{ userId: string }>; nextCursor: string | null } = (await t.call(target, 'GET', `/users/${target.userId}/followers?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).json();
      seen.push(...page.items.map((e) => e.userId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(users.slice(0, 4).map((u) => u.userId).reverse());
  });
});

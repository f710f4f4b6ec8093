import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { StoredEvent } from '../../src/core/events/types.js';
import type { CommunityModule } from '../../src/modules/community/index.js';
import type { TestAppOptions } from './app.js';
import { bearer, identityApp, type SignedIn } from './identity.js';

/** A test app with identity and community (and whatever else the product builds), on a manual clock. */
export async function communityApp(options: TestAppOptions = {}) {
  // Generous write limits unless a test is about them.
  const t = await identityApp({ ...options, env: { COMMUNITY_POSTS_PER_HOUR: '100000', COMMUNITY_COMMENTS_PER_HOUR: '100000', ...options.env } });
  const community = t.modules.find((m) => m.name === 'community') as CommunityModule;
  const call = (who: SignedIn | null, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: { ...(who ? bearer(who.accessToken) : {}), ...headers }, ...(payload === undefined ? {} : { payload }) });
  /** Writes a post and returns its body; fails the test unless it answers 201. */
  async function post(who: SignedIn, payload: object = {}) {
    const res = await call(who, 'POST', '/posts', { body: 'Hello **world**', ...payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }
  async function comment(who: SignedIn, postId: string, payload: object = {}) {
    const res = await call(who, 'POST', `/posts/${postId}/comments`, { body: 'Nice one', ...payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }
  async function follow(who: SignedIn, whom: SignedIn) {
    const res = await call(who, 'PUT', `/users/${whom.userId}/follow`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }
  /** Events of `type` in the log, oldest first (read from the log: no dispatcher needs to run). */
  async function eventsOf<P = any>(type: string): Promise<Array<StoredEvent<P>>> {
    const all: StoredEvent[] = [];
    for (let cursor = 0; ; ) {
      const batch = await t.core.events.readSince(cursor, { limit: 500 });
      all.push(...batch);
      if (batch.length < 500) break;
      cursor = batch.at(-1)!.seq;
    }
    return all.filter((e) => e.type === type) as Array<StoredEvent<P>>;
  }
  return Object.assign(t, { community, call, post, comment, follow, eventsOf });
}

export type CommunityTestApp = Awaited<ReturnType<typeof communityApp>>;

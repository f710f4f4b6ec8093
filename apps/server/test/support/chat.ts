import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { StoredEvent } from '../../src/core/events/types.js';
import type { ChatModule } from '../../src/modules/chat/index.js';
import type { TestAppOptions } from './app.js';
import { bearer, identityApp, signUp, type IdentityTestApp, type SignedIn } from './identity.js';

/** A test app with identity and chat, and a manual clock. */
export async function chatApp(options: TestAppOptions = {}) {
  const t = await identityApp(options);
  const chat = t.modules.find((m) => m.name === 'chat') as ChatModule;
  return Object.assign(t, { chat });
}

export type ChatTestApp = Awaited<ReturnType<typeof chatApp>>;

/** Signs up `n` verified users named `name-1`, `name-2`… */
export async function people(t: IdentityTestApp, n: number, name = 'Person'): Promise<SignedIn[]> {
  const result: SignedIn[] = [];
  for (let i = 1; i <= n; i++) result.push(await signUp(t, { displayName: `${name} ${i}` }));
  return result;
}

/** Calls the chat API as `user` (an access token, or a raw Authorization value when it starts with `Bearer `). */
export function api(t: IdentityTestApp, user: SignedIn | string, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const auth = typeof user === 'string' ? { authorization: user } : bearer(user.accessToken);
  return t.app.inject({ method, url: `/api/v1${url}`, headers: { ...auth, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
}

/** Like `api`, but expects `status` and returns the JSON body. */
export async function ok(res: LightMyRequestResponse | Promise<LightMyRequestResponse>, status = 200): Promise<any> {
  const r = await res;
  expect(r.statusCode, r.body).toBe(status);
  return r.body ? r.json() : undefined;
}

export async function group(t: IdentityTestApp, owner: SignedIn, members: SignedIn[], title = 'Study group'): Promise<{ id: string }> {
  return ok(api(t, owner, 'POST', '/conversations', { kind: 'group', title, memberIds: members.map((m) => m.userId) }), 201);
}

export async function direct(t: IdentityTestApp, a: SignedIn, b: SignedIn): Promise<{ id: string }> {
  const res = await api(t, a, 'POST', '/conversations', { kind: 'direct', userId: b.userId });
  expect([200, 201], res.body).toContain(res.statusCode);
  return res.json();
}

let counter = 0;
export async function send(t: IdentityTestApp, user: SignedIn, conversationId: string, body: Record<string, unknown> | string = 'hello'): Promise<any> {
  const payload = typeof body === 'string' ? { body, clientMessageId: `c-${process.pid}-${++counter}` } : body;
  return ok(api(t, user, 'POST', `/conversations/${conversationId}/messages`, payload), 201);
}

/** Every event of the log carrying `scope`, oldest first (read straight from the log: no dispatch needed). */
export async function eventsOf(t: IdentityTestApp, scope: string, type?: string): Promise<StoredEvent<any>[]> {
  const all: StoredEvent<any>[] = [];
  for (let cursor = 0; ; ) {
    const page = await t.core.events.readSince(cursor, { scopes: [scope], limit: 500 });
    all.push(...page);
    if (page.length < 500) break;
    cursor = page.at(-1)!.seq;
  }
  return type ? all.filter((e) => e.type === type) : all;
}

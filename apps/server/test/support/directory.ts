import { expect } from 'vitest';
import type { DirectoryModule } from '../../src/modules/directory/index.js';
import type { TestAppOptions } from './app.js';
import { bearer, identityApp, type IdentityTestApp, type SignedIn } from './identity.js';

/** A test app with identity and the directory, a manual clock, and the directory module at hand. */
export async function directoryApp(options: TestAppOptions = {}) {
  const t = await identityApp(options);
  const directory = t.modules.find((m) => m.name === 'directory') as DirectoryModule;
  return Object.assign(t, { directory });
}

export type DirectoryTestApp = Awaited<ReturnType<typeof directoryApp>>;

/** Calls a directory route as `who` (undefined: a guest). */
export function call(t: IdentityTestApp, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, who?: SignedIn, payload?: object, headers: Record<string, string> = {}) {
  return t.app.inject({ method, url: `/api/v1/directory${url}`, headers: { ...(who ? bearer(who.accessToken) : {}), ...headers }, ...(payload ? { payload } : {}) });
}

/** Creates a profile as `who` (their own, or any with an admin) and returns it. */
export async function createProfile(t: IdentityTestApp, who: SignedIn, payload: Record<string, unknown>) {
  const res = await call(t, 'POST', '/profiles', who, { name: 'Alumna', ...payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

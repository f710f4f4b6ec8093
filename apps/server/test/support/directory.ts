import { expect } from 'vitest';
import { addToTally, tallyFrom, type FacetRow, type Tally } from '../../src/modules/directory/directory.facets.js';
import { IMPORT_JOB } from '../../src/modules/directory/directory.import.js';
import type { VisibilityLevel } from '../../src/modules/directory/directory.tables.js';
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

/** Runs a queued import job the way a worker would (no background worker in these tests); returns the import as its owner sees it. */
export async function runImport(t: DirectoryTestApp, admin: SignedIn, importId: string) {
  const job = (await t.core.jobs.list({ limit: 100 })).find((j) => j.name === IMPORT_JOB && (j.payload as { importId: string }).importId === importId);
  expect(job, 'the import job is queued').toBeDefined();
  await t.directory.jobs![IMPORT_JOB]!.handle({ id: job!.id, name: IMPORT_JOB, payload: { importId }, attempt: 1, maxAttempts: 5, signal: new AbortController().signal });
  const res = await call(t, 'GET', `/imports/${importId}`, admin);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Uploads a CSV import as an admin and runs its job; returns the finished import. */
export async function importCsv(t: DirectoryTestApp, admin: SignedIn, csv: string) {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/directory/import', headers: { ...bearer(admin.accessToken), 'content-type': 'text/csv' }, payload: csv });
  expect(res.statusCode, res.body).toBe(201);
  return runImport(t, admin, res.json().id as string);
}

/** The counts of `rows` as a viewer at `level` sees them, counted by the server's rules (the reference the database's counts are held to). */
export function tallyOf(rows: FacetRow[], level: VisibilityLevel): Tally {
  const tally = tallyFrom([]);
  for (const row of rows) addToTally(tally, row, level, 1);
  return tally;
}

import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { call, createProfile, directoryApp, importCsv, type DirectoryTestApp } from '../../../test/support/directory.js';
import { bearer, signUp, signUpAdmin, type SignedIn } from '../../../test/support/identity.js';
import { createDirectoryService } from './directory.service.js';

describeEachDialect('directory: search counts stay exact after every write', (dialect) => {
  let t: DirectoryTestApp;
  let admin: SignedIn;
  let member: SignedIn;

  beforeAll(async () => {
    t = await directoryApp({ dialect });
    admin = await signUpAdmin(t);
    member = await signUp(t);
    for (const country of ['Chile', 'Chile', 'Peru']) await createProfile(t, admin, { name: `In ${country}`, country, department: 'Geology', visibility: { country: 'public' } });
  });
  afterAll(() => t.destroy());

  const search = async (query: string, who?: SignedIn) => (await call(t, 'GET', `/search?${query}`, who)).json();
  const countries = (body: { facets: { country: unknown } }) => body.facets.country;

  it('a create, a change and a delete are counted by the very next search (cached or not)', async () => {
    const first = await search('department=Geology', member);
    expect(first.total).toBe(3);
    expect(countries(first)).toEqual([{ value: 'Chile', count: 2 }, { value: 'Peru', count: 1 }]);
    // The same search again is served from the cache, with the same answer.
    expect(await search('department=Geology', member)).toEqual(first);

    const added = await createProfile(t, admin, { name: 'In Peru too', country: 'Peru', department: 'Geology' });
    const afterCreate = await search('department=Geology', member);
    expect(afterCreate.total).toBe(4);
    expect(countries(afterCreate)).toEqual([{ value: 'Chile', count: 2 }, { value: 'Peru', count: 2 }]);
    expect(afterCreate.items.map((p: { name: string }) => p.name)).toContain('In Peru too');

    // Hiding the country takes it out of a member's counts at once.
    expect((await call(t, 'PATCH', `/profiles/${added.id}`, admin, { visibility: { country: 'hidden' } })).statusCode).toBe(200);
    expect(countries(await search('department=Geology', member))).toEqual([{ value: 'Chile', count: 2 }, { value: 'Peru', count: 1 }]);
    expect(countries(await search('department=Geology', admin))).toEqual([{ value: 'Chile', count: 2 }, { value: 'Peru', count: 2 }]);

    expect((await call(t, 'DELETE', `/profiles/${added.id}`, admin)).statusCode).toBe(204);
    const afterDelete = await search('department=Geology', member);
    expect(afterDelete.total).toBe(3);
    expect(afterDelete.items.map((p: { name: string }) => p.name)).not.toContain('In Peru too');
  });

  it('an import is counted at once too', async () => {
    await search('department=Geology&country=Chile');
    await importCsv(t, admin, 'externalId,name,department,country\nGEO-1,Imported Geologist,Geology,Chile\n');
    // Imported profiles get the default visibility: their country is for members.
    expect((await search('department=Geology&country=Chile', member)).total).toBe(3);
  });

  it('another node (its own cache, the same database) never serves a count older than the data', async () => {
    const otherNode = createDirectoryService({ db: t.core.database.db, dialect, clock: t.core.clock, events: t.core.events, cursors: t.core.cursors, users: t.identity.users });
    const before = await otherNode.search(null, { department: 'Geology' });
    await createProfile(t, admin, { name: 'Another Geologist', department: 'Geology', visibility: { department: 'public' } });
    const after = await otherNode.search(null, { department: 'Geology' });
    expect(after.total).toBe(before.total + 1);
  });
});

describeEachDialect('directory: duplicate review', (dialect) => {
  let t: DirectoryTestApp;
  let admin: SignedIn;
  let alice: SignedIn;

  beforeAll(async () => {
    t = await directoryApp({ dialect });
    admin = await signUpAdmin(t);
    alice = await signUp(t);
  });
  afterAll(() => t.destroy());

  const duplicates = async () => (await call(t, 'GET', '/duplicates?limit=100', admin)).json().items as Array<{ id: string; profiles: Array<{ id: string; externalId: string; version: number }> }>;
  const pairOf = async (externalId: string) => (await duplicates()).find((d) => d.profiles.some((p) => p.externalId === externalId))!;
  const profile = (id: string) => t.core.database.db.selectFrom('directory_profile').selectAll().where('id', '=', id).executeTakeFirst();
  const audit = () => t.core.database.db.selectFrom('directory_review_audit').selectAll().orderBy('created_at').orderBy('id').execute();

  it('a dismissed pair leaves the list and is never flagged again; only admins review', async () => {
    const csv = 'externalId,name,email\nD-1,Dana Scully,dana@example.com\nD-2,D. Scully,dana@example.com\n';
    expect(await importCsv(t, admin, csv)).toMatchObject({ created: 2, duplicates: 1 });
    const pair = await pairOf('D-1');
    expect((await call(t, 'POST', `/duplicates/${pair.id}/dismiss`, alice)).statusCode).toBe(403);
    expect((await call(t, 'POST', `/duplicates/${pair.id}/dismiss`, admin)).statusCode).toBe(204);
    expect(await pairOf('D-1')).toBeUndefined();
    expect((await call(t, 'POST', `/duplicates/${pair.id}/dismiss`, admin)).json().code).toBe('DIRECTORY_DUPLICATE_NOT_FOUND');
    // A re-import of the same rows updates them and flags nothing.
    expect(await importCsv(t, admin, csv)).toMatchObject({ updated: 2, duplicates: 0 });
    expect(await pairOf('D-1')).toBeUndefined();
    expect((await audit()).map((a) => [a.action, a.duplicate_id, a.actor_id])).toEqual([['dismiss', pair.id, admin.userId]]);
  });

  it('a merge fills only the empty fields, keeps both ids without conflict, deletes the other, in one audited step', async () => {
    await importCsv(t, admin, 'externalId,name,email,city,company,skills\nM-1,Fox Mulder,fox@example.com,Washington,,Profiling\nM-2,Fox W. Mulder,fox@example.com,Oxford,FBI,Profiling; Rust\n');
    const pair = await pairOf('M-1');
    const kept = pair.profiles.find((p) => p.externalId === 'M-1')!;
    const other = pair.profiles.find((p) => p.externalId === 'M-2')!;
    const before = await t.core.events.head();
    const res = await call(t, 'POST', `/duplicates/${pair.id}/merge`, admin, { keep: kept.id, keepVersion: kept.version, otherVersion: other.version });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers.etag).toBe(`"${kept.version + 1}"`);
    // Name, city and skills are the kept profile's; the empty company is filled from the other.
    expect(res.json()).toMatchObject({ id: kept.id, name: 'Fox Mulder', city: 'Washington', company: 'FBI', skills: ['Profiling'], externalId: 'M-1', version: kept.version + 1 });
    expect(await profile(other.id)).toBeUndefined();
    expect(await pairOf('M-1')).toBeUndefined();
    const events = await t.core.events.readSince(before);
    expect(events.map((e) => [e.type, (e.payload as { profileId: string }).profileId])).toEqual([
      ['directory.profile.deleted', other.id],
      ['directory.profile.updated', kept.id],
    ]);
    expect(events[1]!.payload).toMatchObject({ fields: ['company'] });
    expect((await audit()).at(-1)).toMatchObject({ action: 'merge', kept_profile: kept.id, removed_profile: other.id, actor_id: admin.userId });
    // The other's externalId is free again: a re-import of M-2 creates it anew rather than failing.
    expect(await importCsv(t, admin, 'externalId,name\nM-2,Fox W. Mulder\n')).toMatchObject({ created: 1, failed: 0 });
  });

  it('explicit choices take the other value (with the stricter visibility) and its externalId', async () => {
    await importCsv(t, admin, 'externalId,name,email,city,company\nC-1,Walter Skinner,skinner@example.com,Washington,FBI\nC-2,Walt Skinner,skinner@example.com,Quantico,Bureau\n');
    const pair = await pairOf('C-1');
    const kept = pair.profiles.find((p) => p.externalId === 'C-1')!;
    const other = pair.profiles.find((p) => p.externalId === 'C-2')!;
    // The other person hid their city: the merged profile keeps it hidden.
    const hidden = await call(t, 'PATCH', `/profiles/${other.id}`, admin, { visibility: { city: 'hidden' } });
    expect(hidden.statusCode).toBe(200);
    const stale = await call(t, 'POST', `/duplicates/${pair.id}/merge`, admin, { keep: kept.id, keepVersion: kept.version, otherVersion: other.version });
    expect(stale.statusCode).toBe(412);
    expect(await profile(other.id)).toBeDefined();
    const res = await call(t, 'POST', `/duplicates/${pair.id}/merge`, admin, {
      keep: kept.id, keepVersion: kept.version, otherVersion: hidden.json().version,
      choices: { city: 'other', company: 'keep', externalId: 'other' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ city: 'Quantico', company: 'FBI', externalId: 'C-2' });
    expect(res.json().visibility.city).toBe('hidden');
    const asMember = (await call(t, 'GET', `/profiles/${kept.id}`, alice)).json();
    expect(asMember).not.toHaveProperty('city');
  });

  it('the account link moves to the kept profile; two linked profiles are a conflict', async () => {
    const own = await createProfile(t, alice, { name: 'Alice Own', email: 'alice-dir@example.com' });
    await importCsv(t, admin, 'externalId,name,email\nA-1,Alice Imported,alice-dir@example.com\n');
    const pair = await pairOf('A-1');
    const imported = pair.profiles.find((p) => p.externalId === 'A-1')!;
    const notInPair = await call(t, 'POST', `/duplicates/${pair.id}/merge`, admin, { keep: 'alm_other', keepVersion: 1, otherVersion: 1 });
    expect(notInPair.statusCode).toBe(422);
    const res = await call(t, 'POST', `/duplicates/${pair.id}/merge`, admin, { keep: imported.id, keepVersion: imported.version, otherVersion: own.version });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ userId: alice.userId, externalId: 'A-1' });
    expect((await call(t, 'GET', '/profiles/me', alice)).json().id).toBe(imported.id);

    const bob = await signUp(t);
    const bobOwn = await createProfile(t, bob, { name: 'Bob', email: 'bob-dir@example.com' });
    await importCsv(t, admin, 'externalId,name,email\nB-1,Bob Imported,bob-dir@example.com\n');
    const bobPair = await pairOf('B-1');
    const bobImported = bobPair.profiles.find((p) => p.externalId === 'B-1')!;
    // The imported profile belongs to another account (set in the database: PATCH cannot re-link).
    const carol = await signUp(t);
    await t.core.database.db.updateTable('directory_profile').set({ user_id: carol.userId }).where('id', '=', bobImported.id).execute();
    const conflict = await call(t, 'POST', `/duplicates/${bobPair.id}/merge`, admin, { keep: bobImported.id, keepVersion: bobImported.version, otherVersion: bobOwn.version });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().code).toBe('DIRECTORY_MERGE_CONFLICT');
  });
});

describeEachDialect('directory: a deleted account', (dialect) => {
  let t: DirectoryTestApp;
  let admin: SignedIn;

  beforeAll(async () => {
    t = await directoryApp({ dialect, background: true });
    admin = await signUpAdmin(t);
  });
  afterAll(() => t.destroy());

  const profile = (id: string) => t.core.database.db.selectFrom('directory_profile').selectAll().where('id', '=', id).executeTakeFirst();
  const deleteAccount = async (who: SignedIn) => {
    const res = await t.app.inject({ method: 'DELETE', url: `/api/v1/admin/users/${who.userId}`, headers: bearer(admin.accessToken) });
    expect(res.statusCode, res.body).toBe(204);
  };

  it("loses the profile the person made; a profile the school imported stays, unlinked", async () => {
    const [dana, eve] = await Promise.all([signUp(t), signUp(t)]);
    const own = await createProfile(t, dana, { name: 'Dana Own' });
    const imported = await createProfile(t, admin, { name: 'Eve Imported', userId: eve.userId, externalId: 'SIS-EVE' });
    await deleteAccount(dana);
    await deleteAccount(eve);
    await vi.waitFor(async () => expect(await profile(own.id)).toBeUndefined(), { timeout: 15_000, interval: 50 });
    await vi.waitFor(async () => expect(await profile(imported.id)).toMatchObject({ user_id: null, external_id: 'SIS-EVE', version: 2 }), { timeout: 15_000, interval: 50 });
  });

  it('is idempotent: the same deletion handled twice changes nothing more', async () => {
    const frank = await signUp(t);
    const own = await createProfile(t, frank, { name: 'Frank Own' });
    const before = await t.core.events.head();
    await t.directory.service.forgetUser(frank.userId);
    await t.directory.service.forgetUser(frank.userId);
    expect(await profile(own.id)).toBeUndefined();
    const deleted = (await t.core.events.readSince(before)).filter((e) => e.type === 'directory.profile.deleted');
    expect(deleted).toHaveLength(1);
  });
});

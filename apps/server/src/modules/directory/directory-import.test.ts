import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { call, createProfile, directoryApp, runImport as runImportJob, type DirectoryTestApp } from '../../../test/support/directory.js';
import { bearer, signUp, signUpAdmin, type SignedIn } from '../../../test/support/identity.js';

describeEachDialect('directory: CSV import', (dialect) => {
  let t: DirectoryTestApp;
  let admin: SignedIn;
  let member: SignedIn;

  beforeAll(async () => {
    t = await directoryApp({ dialect });
    admin = await signUpAdmin(t);
    member = await signUp(t);
  });
  afterAll(() => t.destroy());

  const upload = (csv: string, who: SignedIn = admin, contentType = 'text/csv') =>
    t.app.inject({ method: 'POST', url: '/api/v1/directory/import', headers: { ...bearer(who.accessToken), 'content-type': contentType }, payload: csv });

  const runImport = (importId: string) => runImportJob(t, admin, importId);

  const countProfiles = async () => Number((await t.core.database.db.selectFrom('directory_profile').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('stores the good rows, reports the bad ones, flags likely duplicates, and a re-import updates', async () => {
    await createProfile(t, admin, { name: 'Existing Person', email: 'dup@example.com' });
    const csv = [
      'External ID,Name,Email,Graduation Year,Program,Company,Skills,Links,Favourite colour',
      'S-1,Ada Lovelace,ada@example.com,2010,Mathematics,Engines Ltd,Analysis; Rust,https://ada.example.com,blue',
      'S-2,,nobody@example.com,2011,Physics,,,,red',
      'S-3,Bad Year,bad@example.com,20x1,Physics,,,,green',
      'S-4,Someone,dup@example.com,2012,Physics,"Acme, Inc.",,,',
      'S-5,Ada Lovelace,ada2@example.com,2010,Mathematics,,,,',
      ',No External Id,x@example.com,2013,,,,,',
      'S-6,Bad Email,not-an-email,2014,,,,ftp://nope,',
    ].join('\n');
    const before = await countProfiles();
    const res = await upload(csv);
    expect(res.statusCode, res.body).toBe(201);
    const started = res.json();
    expect(res.headers.location).toBe(`/api/v1/directory/imports/${started.id}`);
    expect(started).toMatchObject({ status: 'queued', processedRows: 0, totalRows: null });

    const eventsBefore = await t.core.events.head();
    const done = await runImport(started.id);
    expect(done).toMatchObject({ status: 'succeeded', totalRows: 7, processedRows: 7, created: 3, updated: 0, failed: 4, duplicates: 2 });
    expect(await countProfiles()).toBe(before + 3);
    expect((await t.core.events.readSince(eventsBefore)).filter((e) => e.type === 'directory.import.completed')).toEqual([
      expect.objectContaining({ payload: { importId: started.id, status: 'succeeded', created: 3, updated: 0, failed: 4, duplicates: 2 } }),
    ]);

    const stored = await t.core.database.db.selectFrom('directory_profile').selectAll().where('external_id', '=', 'S-4').executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ name: 'Someone', company: 'Acme, Inc.', graduation_year: 2012, user_id: null });
    const ada = (await call(t, 'GET', '/search?q=lovelace%20rust', member)).json();
    expect(ada.items.map((p: { name: string }) => p.name)).toEqual(['Ada Lovelace']);
    expect(ada.items[0].links).toEqual([{ label: 'ada.example.com', url: 'https://ada.example.com' }]);

    const report = await call(t, 'GET', `/imports/${started.id}/errors`, admin);
    expect(report.statusCode).toBe(200);
    expect(report.headers['content-type']).toContain('text/csv');
    const failed = parse(report.body, { columns: true }) as Array<Record<string, string>>;
    expect(failed.map((r) => [r.row, r['External ID']])).toEqual([['2', 'S-2'], ['3', 'S-3'], ['6', ''], ['7', 'S-6']]);
    expect(failed[0]!.errors).toBe('name: required');
    expect(failed[1]!.errors).toContain('graduationYear');
    expect(failed[2]!.errors).toBe('externalId: required');
    expect(failed[3]!.errors).toContain('email: not an email address');
    expect(failed[3]!.errors).toContain('links:');
    expect(failed[0]!['Favourite colour']).toBe('red');

    const duplicates = (await call(t, 'GET', '/duplicates', admin)).json();
    const pairs = duplicates.items.map((d: { reason: string; profiles: Array<{ name: string }> }) => [d.reason, d.profiles.map((p) => p.name).sort()]);
    expect(pairs).toEqual(
      expect.arrayContaining([
        ['email', ['Existing Person', 'Someone']],
        ['nameAndYear', ['Ada Lovelace', 'Ada Lovelace']],
      ]),
    );
    expect(duplicates.items).toHaveLength(2);

    // Re-importing updates by externalId: no new profiles, no new duplicate flags.
    const again = await upload(['externalId,name,company', 'S-1,Ada King,Analytical Engines', 'S-4,Someone,Initech'].join('\r\n'));
    expect(again.statusCode, again.body).toBe(201);
    expect(await runImport(again.json().id)).toMatchObject({ status: 'succeeded', created: 0, updated: 2, failed: 0, duplicates: 0 });
    expect(await countProfiles()).toBe(before + 3);
    const s1 = await t.core.database.db.selectFrom('directory_profile').selectAll().where('external_id', '=', 'S-1').executeTakeFirstOrThrow();
    // Columns the file does not have are kept.
    expect(s1).toMatchObject({ name: 'Ada King', company: 'Analytical Engines', email: 'ada@example.com', graduation_year: 2010, version: 2 });
    expect((await call(t, 'GET', '/duplicates', admin)).json().items).toHaveLength(2);

    // Running the job again (a retry after success) changes nothing.
    await runImport(again.json().id);
    expect(await countProfiles()).toBe(before + 3);
  });

  it('refuses non-admins, files without the required columns, and bodies that are not CSV', async () => {
    expect((await upload('externalId,name\nX,Y', member)).statusCode).toBe(403);
    const missing = await upload('id,fullname\n1,Someone');
    expect(missing.statusCode).toBe(422);
    expect(missing.json().code).toBe('DIRECTORY_IMPORT_INVALID');
    expect((await upload('{"externalId":"x"}', admin, 'application/json')).statusCode).toBe(415);
    expect((await call(t, 'GET', '/imports/imp_nope', admin)).statusCode).toBe(404);
    expect((await call(t, 'GET', '/imports/imp_nope/errors', admin)).statusCode).toBe(404);
    expect((await call(t, 'GET', '/duplicates', member)).statusCode).toBe(403);
  });

  it('a malformed file fails the import with a reason, and is not retried', async () => {
    const res = await upload('externalId,name\nM-1,Fine\nM-2,"unclosed\n');
    expect(res.statusCode, res.body).toBe(201);
    const done = await runImport(res.json().id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('not valid CSV');
    expect(done.finishedAt).not.toBeNull();
    const stored = await t.core.database.db.selectFrom('directory_profile').select('external_id').where('external_id', '=', 'M-2').execute();
    expect(stored).toEqual([]);
  });
});

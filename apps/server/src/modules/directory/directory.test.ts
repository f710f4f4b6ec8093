import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { call, createProfile, directoryApp, type DirectoryTestApp } from '../../../test/support/directory.js';
import { signUp, signUpAdmin, type SignedIn } from '../../../test/support/identity.js';

describeEachDialect('directory: profiles', (dialect) => {
  let t: DirectoryTestApp;
  let admin: SignedIn;
  let alice: SignedIn;
  let bob: SignedIn;
  let aliceProfile: { id: string; version: number };

  beforeAll(async () => {
    t = await directoryApp({ dialect });
    admin = await signUpAdmin(t);
    [alice, bob] = await Promise.all([signUp(t), signUp(t)]);
  });
  afterAll(() => t.destroy());

  it('a member creates their own profile: 201, Location, ETag, an event, and only one per account', async () => {
    const before = await t.core.events.head();
    const res = await call(t, 'POST', '/profiles', alice, {
      name: 'Alice Martin',
      email: 'Alice@Example.com',
      graduationYear: 2015,
      program: 'BSc Computer Science',
      company: 'Acme',
      skills: ['Rust', 'rust', 'SQL'],
      links: [{ label: 'Blog', url: 'https://alice.example.com' }],
      visibility: { company: 'hidden', graduationYear: 'public' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    aliceProfile = body;
    expect(res.headers.location).toBe(`/api/v1/directory/profiles/${body.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(body).toMatchObject({ userId: alice.userId, name: 'Alice Martin', email: 'alice@example.com', skills: ['Rust', 'SQL'], company: 'Acme', version: 1 });
    expect(body.visibility).toMatchObject({ company: 'hidden', graduationYear: 'public', email: 'hidden', program: 'members' });
    const events = await t.core.events.readSince(before);
    expect(events.filter((e) => e.type === 'directory.profile.created')).toEqual([
      expect.objectContaining({ scopes: [`user:${alice.userId}`, 'system'], payload: { profileId: body.id, userId: alice.userId, version: 1 } }),
    ]);
    const again = await call(t, 'POST', '/profiles', alice, { name: 'Alice again' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('DIRECTORY_PROFILE_EXISTS');
  });

  it('each viewer sees the fields their class may see', async () => {
    const guest = (await call(t, 'GET', `/profiles/${aliceProfile.id}`)).json();
    expect(guest).toMatchObject({ name: 'Alice Martin', graduationYear: 2015 });
    for (const field of ['email', 'company', 'program', 'skills', 'visibility']) expect(guest).not.toHaveProperty(field);
    const member = (await call(t, 'GET', `/profiles/${aliceProfile.id}`, bob)).json();
    expect(member).toMatchObject({ program: 'BSc Computer Science', skills: ['Rust', 'SQL'] });
    for (const field of ['email', 'company', 'visibility', 'externalId']) expect(member).not.toHaveProperty(field);
    const own = await call(t, 'GET', '/profiles/me', alice);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ email: 'alice@example.com', company: 'Acme' });
    expect(own.headers.etag).toBe('"1"');
    expect((await call(t, 'GET', `/profiles/${aliceProfile.id}`, admin)).json()).toMatchObject({ email: 'alice@example.com', company: 'Acme' });
    expect((await call(t, 'GET', '/profiles/me', bob)).statusCode).toBe(404);
    expect((await call(t, 'GET', '/profiles/alm_nope')).json().code).toBe('DIRECTORY_PROFILE_NOT_FOUND');
  });

  it('only the person or an admin changes a profile, with If-Match', async () => {
    const other = await call(t, 'PATCH', `/profiles/${aliceProfile.id}`, bob, { city: 'Lyon' });
    expect(other.statusCode).toBe(404);
    const stale = await call(t, 'PATCH', `/profiles/${aliceProfile.id}`, alice, { city: 'Lyon' }, { 'if-match': '"7"' });
    expect(stale.statusCode).toBe(412);
    const ok = await call(t, 'PATCH', `/profiles/${aliceProfile.id}`, alice, { city: 'Lyon', company: null }, { 'if-match': '"1"' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.headers.etag).toBe('"2"');
    expect(ok.json()).toMatchObject({ city: 'Lyon', company: null, version: 2 });
    const byVersion = await call(t, 'PATCH', `/profiles/${aliceProfile.id}`, alice, { city: 'Paris', version: 1 });
    expect(byVersion.statusCode).toBe(412);
    const byAdmin = await call(t, 'PATCH', `/profiles/${aliceProfile.id}`, admin, { company: 'Initech', version: 2 });
    expect(byAdmin.statusCode, byAdmin.body).toBe(200);
    expect(byAdmin.json()).toMatchObject({ company: 'Initech', version: 3 });
    const stored = await t.core.database.db.selectFrom('directory_profile').selectAll().where('id', '=', aliceProfile.id).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ city: 'Lyon', company: 'Initech', version: 3 });
  });

  it('admins create unlinked profiles with an externalId; members cannot create for others', async () => {
    const forOther = await call(t, 'POST', '/profiles', bob, { name: 'Not me', userId: alice.userId });
    expect(forOther.statusCode).toBe(403);
    const unlinked = await createProfile(t, admin, { name: 'Carol Imported', externalId: 'SIS-1' });
    expect(unlinked).toMatchObject({ userId: null, externalId: 'SIS-1' });
    const duplicate = await call(t, 'POST', '/profiles', admin, { name: 'Carol again', externalId: 'SIS-1' });
    expect(duplicate.statusCode).toBe(409);
    const ghost = await call(t, 'POST', '/profiles', admin, { name: 'Ghost', userId: 'usr_does_not_exist' });
    expect(ghost.statusCode).toBe(404);
    expect(ghost.json().code).toBe('DIRECTORY_USER_NOT_FOUND');
  });

  it('text the database cannot store is a 4xx, never a 500', async () => {
    for (const name of ['a\u0000b', '\u0000']) {
      const res = await call(t, 'POST', '/profiles', admin, { name, bio: 'x\u0000y' });
      expect(res.statusCode, res.body).toBeLessThan(500);
    }
    const res = await call(t, 'PATCH', `/profiles/${aliceProfile.id}`, alice, { bio: 'x\u0000y' });
    expect(res.statusCode, res.body).toBeLessThan(500);
  });

  it('the person deletes their profile (If-Match checked); others cannot', async () => {
    const dave = await signUp(t);
    const profile = await createProfile(t, dave, { name: 'Dave' });
    expect((await call(t, 'DELETE', `/profiles/${profile.id}`, bob)).statusCode).toBe(404);
    expect((await call(t, 'DELETE', `/profiles/${profile.id}`, dave, undefined, { 'if-match': '"5"' })).statusCode).toBe(412);
    const before = await t.core.events.head();
    expect((await call(t, 'DELETE', `/profiles/${profile.id}`, dave)).statusCode).toBe(204);
    expect((await call(t, 'GET', `/profiles/${profile.id}`)).statusCode).toBe(404);
    expect((await t.core.events.readSince(before)).map((e) => e.type)).toContain('directory.profile.deleted');
    const skills = await t.core.database.db.selectFrom('directory_profile_skill').selectAll().where('profile_id', '=', profile.id).execute();
    expect(skills).toEqual([]);
  });

  // Both take the data version's row lock first; a delete that took it before the profile's, while
  // an update held the profile's and waited for the version's, was a deadlock on PostgreSQL (503).
  it('updates and a delete of one profile at once: the delete goes through, no deadlock, nothing left behind', async () => {
    for (let round = 0; round < 8; round++) {
      const profile = await createProfile(t, admin, { name: `Raced ${round}`, skills: ['Racing'], country: 'Racingland' });
      const [updated, deleted, updatedAgain] = await Promise.all([
        call(t, 'PATCH', `/profiles/${profile.id}`, admin, { country: `Elsewhere ${round}` }),
        call(t, 'DELETE', `/profiles/${profile.id}`, admin),
        call(t, 'PATCH', `/profiles/${profile.id}`, admin, { skills: ['Racing', 'Winning'] }),
      ]);
      expect(deleted.statusCode, deleted.body).toBe(204);
      for (const res of [updated, updatedAgain]) expect([200, 404, 412], res.body).toContain(res.statusCode);
      expect((await call(t, 'GET', `/profiles/${profile.id}`)).statusCode).toBe(404);
      const skills = await t.core.database.db.selectFrom('directory_profile_skill').selectAll().where('profile_id', '=', profile.id).execute();
      expect(skills).toEqual([]);
    }
  });
});

describeEachDialect('directory: search and export never reveal a field the caller may not see', (dialect) => {
  let t: DirectoryTestApp;
  let admin: SignedIn;
  let member: SignedIn;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await directoryApp({ dialect });
    admin = await signUpAdmin(t);
    member = await signUp(t);
    const everyoneSees = { graduationYear: 'public', program: 'public', department: 'public', industry: 'public', country: 'public', skills: 'public', company: 'public' } as const;
    const people = [
      { name: 'Ada Lovelace', graduationYear: 2010, program: 'Mathematics', department: 'Science', industry: 'Software', country: 'UK', skills: ['Analysis', 'Rust'], company: 'Engines Ltd', visibility: everyoneSees },
      { name: 'Grace Hopper', graduationYear: 2012, program: 'Mathematics', department: 'Science', industry: 'Defense', country: 'US', skills: ['Cobol'], company: 'Navy', visibility: { ...everyoneSees, company: 'members' } },
      // Everything but the name hidden: a secret company, year, program, country and skill.
      {
        name: 'Hedy Lamarr', graduationYear: 2030, program: 'Secretprogram', department: 'Secretdept', industry: 'Secretindustry', country: 'Secretland', skills: ['Secretskill'], company: 'Zyxcorp',
        visibility: { graduationYear: 'hidden', program: 'hidden', department: 'hidden', industry: 'hidden', country: 'hidden', skills: 'hidden', company: 'hidden' },
      },
      { name: 'Alan Turing', graduationYear: 2011, program: 'Physics', department: 'Science', industry: 'Software', country: 'UK', skills: ['Rust', 'Cryptography'], company: 'Bletchley', visibility: { ...everyoneSees, skills: 'members' } },
    ];
    for (const person of people) ids[person.name] = (await createProfile(t, admin, person)).id;
    for (let i = 0; i < 25; i++) await createProfile(t, admin, { name: `Filler ${String(i).padStart(2, '0')}`, graduationYear: 2000 + (i % 5), visibility: { graduationYear: 'public' } });
  });
  afterAll(() => t.destroy());

  const search = async (query: string, who?: SignedIn) => {
    const res = await call(t, 'GET', `/search?${query}`, who);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const names = (body: { items: Array<{ name: string }> }) => body.items.map((p) => p.name);

  it('full text finds a field only for callers who may see it', async () => {
    expect(names(await search('q=zyxcorp', member))).toEqual([]);
    expect(names(await search('q=zyxcorp'))).toEqual([]);
    expect(names(await search('q=zyxcorp', admin))).toEqual(['Hedy Lamarr']);
    // Navy is for members: a guest cannot find Grace by it, a member can.
    expect(names(await search('q=navy'))).toEqual([]);
    expect(names(await search('q=navy', member))).toEqual(['Grace Hopper']);
    // Every word must match, in any visible field (Alan's skills are for members only).
    expect(names(await search('q=rust%20bletchley', member))).toEqual(['Alan Turing']);
    expect(names(await search('q=rust%20bletchley'))).toEqual([]);
    expect(names(await search('q=bletchley'))).toEqual(['Alan Turing']);
    expect(names(await search('q=lamarr%20secretland', member))).toEqual([]);
  });

  it('FTS syntax in the query is harmless', async () => {
    for (const q of ['"a', 'rust*', 'rust OR navy', '(a', 'NEAR(x y)', "'; drop table x; --", '-rust', 'a:b', 'a^', 'x💥', 'a AND', 'OR']) {
      const res = await call(t, 'GET', `/search?q=${encodeURIComponent(q)}`, member);
      expect(res.statusCode, `${q}: ${res.body}`).toBe(200);
    }
    // Without a word there is nothing to search for: the query narrows nothing.
    const everyone = names(await search('', member));
    for (const q of ['"', '^', '💥', '*']) expect(names(await search(`q=${encodeURIComponent(q)}`, member)), q).toEqual(everyone);
    expect(names(await search('q=2031', admin))).toEqual([]);
    expect(names(await search(`q=${encodeURIComponent('"Ada" OR lovelace*')}`))).toEqual([]);
    expect(names(await search(`q=${encodeURIComponent('"Ada" (Lovelace)')}`))).toEqual(['Ada Lovelace']);
  });

  it('filters and facet counts ignore hidden values', async () => {
    expect(names(await search('country=Secretland', member))).toEqual([]);
    expect(names(await search('country=Secretland', admin))).toEqual(['Hedy Lamarr']);
    expect(names(await search('skills=Secretskill', member))).toEqual([]);
    expect(names(await search('yearFrom=2029', member))).toEqual([]);
    expect(names(await search('yearFrom=2029', admin))).toEqual(['Hedy Lamarr']);
    const asMember = await search('department=Science', member);
    expect(names(asMember).sort()).toEqual(['Ada Lovelace', 'Alan Turing', 'Grace Hopper']);
    expect(asMember.total).toBe(3);
    expect(asMember.facets.program).toEqual([{ value: 'Mathematics', count: 2 }, { value: 'Physics', count: 1 }]);
    expect(asMember.facets.skills).toEqual([
      { value: 'Rust', count: 2 },
      { value: 'Analysis', count: 1 },
      { value: 'Cobol', count: 1 },
      { value: 'Cryptography', count: 1 },
    ]);
    const all = await search('limit=1', member);
    const facetValues = Object.values(all.facets as Record<string, Array<{ value: unknown }>>).flatMap((f) => f.map((v) => String(v.value)));
    expect(facetValues.filter((v) => /secret|2030/i.test(v))).toEqual([]);
    // A guest does not count Alan's members-only skills.
    expect((await search('department=Science')).facets.skills).toEqual([
      { value: 'Analysis', count: 1 },
      { value: 'Cobol', count: 1 },
      { value: 'Rust', count: 1 },
    ]);
    const adminFacets = (await search('limit=1', admin)).facets;
    expect(adminFacets.country).toEqual(expect.arrayContaining([{ value: 'Secretland', count: 1 }]));
    expect(adminFacets.graduationYear).toEqual(expect.arrayContaining([{ value: 2030, count: 1 }]));
  });

  it('sorting by a hidden year does not reveal it', async () => {
    const desc = names(await search('sort=-graduationYear&limit=100', member));
    // 2030 is hidden: Hedy sorts as if she had no year, after every visible one.
    expect(desc.slice(0, 3)).toEqual(['Grace Hopper', 'Alan Turing', 'Ada Lovelace']);
    expect(desc.at(-1)).toBe('Hedy Lamarr');
    expect(names(await search('sort=-graduationYear&limit=1', admin))).toEqual(['Hedy Lamarr']);
  });

  it('pages with a keyset cursor: no repeats, no gaps, in every sort order', async () => {
    for (const sort of ['name', '-name', 'graduationYear', '-graduationYear']) {
      const all = names(await search(`sort=${sort}&limit=100`, member));
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const body = await search(`sort=${sort}&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, member);
        paged.push(...names(body));
        cursor = body.nextCursor;
      } while (cursor);
      expect(paged).toEqual(all);
      expect(new Set(paged).size).toBe(29);
    }
    const byName = await search('sort=name&limit=2', member);
    const wrongSort = await call(t, 'GET', `/search?sort=graduationYear&cursor=${encodeURIComponent(byName.nextCursor)}`, member);
    expect(wrongSort.statusCode).toBe(400);
    expect((await call(t, 'GET', '/search?yearFrom=2020&yearTo=2010')).statusCode).toBe(422);
    const list = await call(t, 'GET', '/profiles?limit=5');
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toHaveLength(5);
  });

  it('a member exports CSV without the fields they may not see; an admin export has everything and is audited', async () => {
    const guest = await call(t, 'GET', '/export');
    expect(guest.statusCode).toBe(401);
    const res = await call(t, 'GET', '/export?format=csv', member);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const rows = parse(res.body, { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(29);
    const hedy = rows.find((r) => r.name === 'Hedy Lamarr')!;
    expect(hedy.company).toBe('');
    // As whole words: a random profile id may hold "2030" (a CI run once had one).
    expect(res.body).not.toMatch(/zyxcorp|\bsecret|\b2030\b/i);
    expect(rows.find((r) => r.name === 'Alan Turing')!.skills).toBe('Rust; Cryptography');
    expect(Object.keys(hedy)).not.toContain('externalId');

    const json = await call(t, 'GET', '/export?format=json', admin);
    expect(json.statusCode).toBe(200);
    const profiles = json.json() as Array<Record<string, unknown>>;
    expect(profiles).toHaveLength(29);
    expect(profiles.find((p) => p.name === 'Hedy Lamarr')).toMatchObject({ company: 'Zyxcorp', graduationYear: 2030, country: 'Secretland' });
    const audit = await t.core.database.db.selectFrom('directory_export_audit').selectAll().orderBy('created_at').orderBy('id').execute();
    expect(audit.map((a) => [a.actor_id, a.format, Number(a.level), Number(a.rows)])).toEqual([
      [member.userId, 'csv', 1, 29],
      [admin.userId, 'json', 2, 29],
    ]);
  });

  it('a CSV cell that looks like a formula is exported as text', async () => {
    const id = (await createProfile(t, admin, { name: '=HYPERLINK("http://evil")' })).id;
    const res = await call(t, 'GET', '/export', admin);
    const rows = parse(res.body, { columns: true }) as Array<Record<string, string>>;
    expect(rows.find((r) => r.id === id)!.name).toBe(`'=HYPERLINK("http://evil")`);
    expect((await call(t, 'DELETE', `/profiles/${id}`, admin)).statusCode).toBe(204);
  });

  it('CSV cells with commas, quotes and line breaks read back exactly', async () => {
    const bio = 'Line one, with a comma\nand "quotes"\r\nend';
    const id = (await createProfile(t, admin, { name: 'Quote, "the" Person', bio, skills: ['C, C++', 'Go'] })).id;
    const rows = parse((await call(t, 'GET', '/export', admin)).body, { columns: true }) as Array<Record<string, string>>;
    expect(rows.find((r) => r.id === id)).toMatchObject({ name: 'Quote, "the" Person', bio, skills: 'C, C++; Go' });
    expect((await call(t, 'DELETE', `/profiles/${id}`, admin)).statusCode).toBe(204);
  });
});

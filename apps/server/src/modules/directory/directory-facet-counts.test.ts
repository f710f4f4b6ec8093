import { CompiledQuery, type KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Principal } from '../../core/http/access.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import { call, createProfile, directoryApp, importCsv, tallyOf, type DirectoryTestApp } from '../../../test/support/directory.js';
import { signUp, signUpAdmin, type SignedIn } from '../../../test/support/identity.js';
import { recordStatements } from '../../../test/support/statements.js';
import { createFacetIndex } from './directory.facet-index.js';
import { answerOf, FACET_COLUMNS, type FacetRow } from './directory.facets.js';
import { directoryRepo, type ProfileFilter } from './directory.repo.js';
import { matchesFilter } from './directory.search-cache.js';
import { createDirectoryService, MANAGE_PERMISSION } from './directory.service.js';
import { down as dropFacetCounts, up as createFacetCounts } from './migrations/20261205140000_directory_facet_counts.js';

const VISIBILITIES = ['public', 'members', 'hidden'] as const;
const FIELDS = { program: ['Law', 'Music', 'Physics'], department: ['Arts', 'Science'], industry: ['Health', 'Media', 'Énergie'], country: ['Chile', 'Peru', 'Ω-land'] };
const SKILLS = ['Rust', 'SQL', 'Go', 'Writing', 'rust'];

/** A repeatable sequence of choices (the same writes on both databases). */
function seededRandom(seed: number) {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return { int, pick: <T>(items: readonly T[]) => items[int(0, items.length - 1)]! };
}
type Random = ReturnType<typeof seededRandom>;

/** Some fields (a value, null, or left out), each with a random visibility. */
function randomFields(rnd: Random): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const visibility: Record<string, string> = {};
  for (const [field, values] of Object.entries({ ...FIELDS, graduationYear: [1999, 2000, 2021], skills: [] })) {
    const roll = rnd.int(0, 3);
    if (roll === 0) continue;
    if (field === 'skills') fields.skills = roll === 1 ? [] : SKILLS.filter(() => rnd.int(0, 1) === 1);
    else fields[field] = roll === 1 ? null : rnd.pick(values as unknown[]);
    if (rnd.int(0, 1)) visibility[field] = rnd.pick(VISIBILITIES);
  }
  return Object.keys(visibility).length ? { ...fields, visibility } : fields;
}

describeEachDialect('directory: maintained facet counts', (dialect) => {
  let t: DirectoryTestApp;
  let admin: SignedIn;
  let member: SignedIn;
  const rnd = seededRandom(6);

  beforeAll(async () => {
    t = await directoryApp({ dialect });
    admin = await signUpAdmin(t);
    member = await signUp(t);
  });
  afterAll(() => t.destroy());

  /** The counts recomputed from every profile (and the skill rows), independently of how they are maintained. */
  async function recount(): Promise<string[]> {
    const db = t.core.database.db;
    const profiles = await db.selectFrom('directory_profile').selectAll().execute();
    const skills = await db.selectFrom('directory_profile_skill').selectAll().execute();
    const counts = new Map<string, number>();
    const add = (facet: string, value: string, from: number) => {
      for (let level = from; level <= 2; level++) counts.set(`${facet}|${level}|${value}`, (counts.get(`${facet}|${level}|${value}`) ?? 0) + 1);
    };
    for (const p of profiles) {
      add('total', '', 0);
      if (p.graduation_year !== null) add('graduationYear', String(p.graduation_year), Number(p.vis_graduation_year));
      for (const facet of ['program', 'department', 'industry', 'country'] as const) if (p[facet] !== null) add(facet, p[facet]!, Number(p[`vis_${facet}`]));
      for (const s of skills.filter((s) => s.profile_id === p.id)) add('skills', s.skill, Number(p.vis_skills));
    }
    return [...counts].map(([key, count]) => `${key}=${count}`).sort();
  }

  /** Every profile's facet columns, to count them here. */
  const facetRows = (): Promise<FacetRow[]> => t.core.database.db.selectFrom('directory_profile').select(FACET_COLUMNS).execute();

  async function maintained(): Promise<string[]> {
    const rows = await t.core.database.db.selectFrom('directory_facet_count').selectAll().execute();
    return rows.map((r) => `${r.facet}|${r.level}|${r.value}=${r.count}`).sort();
  }

  it('stay equal to a full recount after random creates, changes, visibility changes, deletes, imports and a merge', async () => {
    const ids: string[] = [];
    for (let step = 0; step < 60; step++) {
      const action = ids.length < 5 ? 0 : rnd.int(0, 3);
      if (action === 0) ids.push((await createProfile(t, admin, { name: `Person ${step}`, ...randomFields(rnd) })).id);
      else if (action === 3) {
        const id = ids.splice(rnd.int(0, ids.length - 1), 1)[0]!;
        expect((await call(t, 'DELETE', `/profiles/${id}`, admin)).statusCode).toBe(204);
      } else {
        const res = await call(t, 'PATCH', `/profiles/${rnd.pick(ids)}`, admin, { name: `Changed ${step}`, ...randomFields(rnd) });
        expect(res.statusCode, res.body).toBe(200);
      }
    }
    await importCsv(t, admin, 'externalId,name,email,country,skills\nF-1,Imported One,same@example.com,Chile,Rust; SQL\nF-2,Imported Two,same@example.com,Peru,Go\n');
    await importCsv(t, admin, 'externalId,name,country,skills\nF-1,Imported One,Peru,Writing\nF-3,Imported Three,Chile,\n');
    const pair = (await call(t, 'GET', '/duplicates', admin)).json().items[0];
    const [a, b] = pair.profiles;
    expect((await call(t, 'POST', `/duplicates/${pair.id}/merge`, admin, { keep: a.id, keepVersion: a.version, otherVersion: b.version, choices: { skills: 'other', country: 'other' } })).statusCode).toBe(200);

    const expected = await recount();
    expect(expected.length).toBeGreaterThan(30);
    expect(await maintained()).toEqual(expected);
  });

  it('give every viewer the same unfiltered answer as counting the matching profiles', async () => {
    const repo = directoryRepo(t.core.database.db, dialect);
    for (const [who, level] of [[undefined, 0], [member, 1], [admin, 2]] as const) {
      const res = await call(t, 'GET', '/search?limit=1', who);
      expect(res.statusCode, res.body).toBe(200);
      const { total, facets } = res.json();
      expect({ total, facets }).toEqual(answerOf(tallyOf(await facetRows(), level), 20));
    }
  });

  it('count a filtered search in the database as the server counts its matching profiles, for every viewer', async () => {
    const repo = directoryRepo(t.core.database.db, dialect);
    // Profiles that match the same filters for different viewers, with fields each viewer may or may not see.
    const seen = { country: 'public', industry: 'public', program: 'public' } as const;
    await createProfile(t, admin, { name: 'Counted A', country: 'Chile', industry: 'Media', program: 'Law', graduationYear: 2000, skills: ['Rust', 'SQL'], visibility: { ...seen, skills: 'members', graduationYear: 'hidden' } });
    await createProfile(t, admin, { name: 'Counted B', country: 'Chile', industry: 'Media', department: 'Science', skills: ['Rust'], visibility: { ...seen, skills: 'public', department: 'hidden' } });
    await createProfile(t, admin, { name: 'Counted C', country: 'Chile', industry: 'Media', program: 'Law', skills: ['Go'], visibility: { ...seen, country: 'members', skills: 'hidden', program: 'members' } });
    const rows = await facetRows();
    const filters: Array<Omit<ProfileFilter, 'level'>> = [
      { program: 'Law' },
      { country: 'Chile', industry: 'Media' },
      { department: 'Science', country: 'Ω-land' },
      { industry: 'Énergie' },
      { skills: ['Rust'] },
      { yearFrom: 2000, yearTo: 2021 },
    ];
    let matched = 0;
    for (const level of [0, 1, 2] as const) {
      for (const f of filters) {
        const filter = { ...f, level };
        const matching = rows.filter((row) => matchesFilter(filter, row));
        matched += matching.length;
        expect(await repo.facetTally(filter), JSON.stringify(filter)).toEqual(tallyOf(matching, level));
      }
    }
    expect(matched).toBeGreaterThan(10);
  });

  it('never count a value for a viewer below its visibility', async () => {
    await createProfile(t, admin, { name: 'Secretive', country: 'Hiddenland', skills: ['Hiddenskill'], visibility: { country: 'hidden', skills: 'members' } });
    const values = async (who?: SignedIn) => {
      const { facets } = (await call(t, 'GET', '/search', who)).json();
      return [...facets.country, ...facets.skills].map((v: { value: string }) => v.value);
    };
    expect(await values()).not.toContain('Hiddenland');
    expect(await values()).not.toContain('Hiddenskill');
    expect(await values(member)).not.toContain('Hiddenland');
    expect(await values(member)).toContain('Hiddenskill');
    expect(await values(admin)).toEqual(expect.arrayContaining(['Hiddenland', 'Hiddenskill']));
  });

  it('cached filtered counts and pages follow every write exactly, on this node and on another one', async () => {
    const db = t.core.database.db;
    // Another node over the same database; its recounts of a filter's facets are counted.
    let recounts = 0;
    const countRecounts: KyselyPlugin = {
      transformQuery: (args) => {
        const text = JSON.stringify(args.node);
        if (text.includes('from directory_profile p where') && !text.includes('sort_value')) recounts++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const node = (handle = db) => createDirectoryService({ db: handle, dialect, clock: t.core.clock, events: t.core.events, cursors: t.core.cursors, users: t.identity.users });
    const otherNode = node(db.withPlugin(countRecounts));
    const principal = (who: SignedIn, permissions: string[]): Principal => ({ kind: 'user', userId: who.userId, roles: [], permissions: new Set(permissions) });
    const viewers = [
      { who: undefined, principal: null },
      { who: member, principal: principal(member, []) },
      { who: admin, principal: principal(admin, [MANAGE_PERMISSION]) },
    ];
    const filters = [
      { country: 'Chile' },
      { country: 'Ω-land', program: 'Law' },
      { department: 'Science', industry: 'Énergie' },
      { skills: ['Rust'] },
      { skills: ['SQL', 'Go'], country: 'Peru' },
      { yearFrom: 2000 },
      { yearFrom: 1999, yearTo: 2000, department: 'Arts' },
    ];
    const withWords = { q: 'changed', country: 'Chile' };
    const queryOf = (filter: Record<string, unknown>) =>
      new URLSearchParams(Object.entries({ ...filter, limit: 5 }).flatMap(([k, v]): Array<[string, string]> => (Array.isArray(v) ? v.map((x) => [k, String(x)]) : [[k, String(v)]]))).toString();

    /** Every filter as each viewer sees it on both nodes, compared with a node that has nothing cached. */
    async function compareAll() {
      const fresh = node();
      for (const filter of [...filters, withWords, {}]) {
        for (const { who, principal } of viewers) {
          const expected = JSON.parse(JSON.stringify(await fresh.search(principal, { ...filter, limit: 5 })));
          expect((await call(t, 'GET', `/search?${queryOf(filter)}`, who)).json(), JSON.stringify(filter)).toEqual(expected);
          expect(JSON.parse(JSON.stringify(await otherNode.search(principal, { ...filter, limit: 5 }))), JSON.stringify(filter)).toEqual(expected);
        }
      }
    }

    await compareAll();
    const linked = await createProfile(t, admin, { name: 'Linked', userId: member.userId, externalId: 'LINK-1', country: 'Chile', skills: ['Rust'] });
    const ids = [linked.id];
    const countedBefore = recounts;
    const recountsPerCheck = viewers.length; // the filter with words, for each viewer
    let checks = 0;
    for (let step = 0; step < 80; step++) {
      const action = ids.length < 5 ? 0 : rnd.int(0, 4);
      if (action === 0) ids.push((await createProfile(t, admin, { name: `Person ${step}`, ...randomFields(rnd) })).id);
      else if (action === 1) {
        const id = ids.splice(rnd.int(1, ids.length - 1), 1)[0]!;
        expect((await call(t, 'DELETE', `/profiles/${id}`, admin)).statusCode).toBe(204);
      } else {
        const res = await call(t, 'PATCH', `/profiles/${rnd.pick(ids)}`, admin, { name: `Changed ${step}`, ...randomFields(rnd) });
        expect(res.statusCode, res.body).toBe(200);
      }
      if (step % 8 === 7) {
        await compareAll();
        checks++;
      }
    }
    await importCsv(t, admin, 'externalId,name,country,skills\nC-1,Cached One,Chile,Rust\nC-2,Cached Two,Peru,SQL; Go\nLINK-1,Linked Again,Peru,Go\n');
    // Unlinking (the account is deleted) changes no count but the pages that show the profile.
    await t.directory.service.forgetUser(member.userId);
    await compareAll();
    checks++;
    // Only the filter with words was counted again after writes (the whole directory reads its maintained counts); the others followed the writes.
    expect(recounts - countedBefore).toBeLessThanOrEqual(checks * recountsPerCheck);
  });

  it('are backfilled by the migration from the profiles already stored', async () => {
    const db = t.core.database.db;
    const before = await maintained();
    await dropFacetCounts(db);
    await createFacetCounts(db);
    expect(await maintained()).toEqual(before);
    expect(await maintained()).toEqual(await recount());
  });
});

describeEachDialect('directory: the indexes of filtered counts', (dialect) => {
  let t: DirectoryTestApp;
  let admin: SignedIn;
  beforeAll(async () => {
    t = await directoryApp({ dialect });
    admin = await signUpAdmin(t);
  });
  afterAll(() => t.destroy());

  // The filters' indexes carry the facet columns; a profile at every length limit must still fit an index entry.
  it('store a profile whose facet values and skills are as long as allowed, and find it by them', async () => {
    const long = (n: number, tag: string) => `${tag}${'𝔵'.repeat(n - tag.length)}`;
    const profile = { program: long(200, 'p'), department: long(200, 'd'), industry: long(100, 'i'), country: long(100, 'c') };
    const skills = Array.from({ length: 50 }, (_, i) => long(60, `s${i}`));
    const created = await createProfile(t, admin, { name: 'Longest', ...profile, skills, visibility: { program: 'public', department: 'public', industry: 'public', country: 'public', skills: 'public' } });
    const res = await call(t, 'GET', `/search?${new URLSearchParams({ ...profile, skills: skills[49]! })}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ total: 1, items: [{ id: created.id }] });
  });

  it.runIf(dialect === 'sqlite')('count a two-facet filter from a covering index, never reading the profiles themselves', async () => {
    const { db } = t.core.database;
    const statements = recordStatements();
    try {
      await directoryRepo(db, dialect).facetTally({ level: 1, industry: 'Media', country: 'Chile' });
    } finally {
      statements.restore();
    }
    const counted = statements.seen.find((s) => s.includes('from directory_profile p'))!;
    // Its parameters: each filter's value and the viewer's level, in the repo's order of filters.
    const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${counted}`, ['Media', 1, 'Chile', 1]));
    const readsOfProfiles = plan.rows.map((r) => r.detail).filter((detail) => /^(SEARCH|SCAN) p\b/.test(detail));
    expect(readsOfProfiles).toEqual([expect.stringMatching(/^SEARCH p USING COVERING INDEX directory_profile_(industry|country)_facets \(/)]);
  });

  it.runIf(dialect === 'sqlite')("pick a filtered page's ids inside a covering index, reading only the page's rows from the table", async () => {
    const { db } = t.core.database;
    const statements = recordStatements();
    try {
      await directoryRepo(db, dialect).search({ level: 1, industry: 'Media', country: 'Chile' }, { key: 'name', descending: false }, 21);
    } finally {
      statements.restore();
    }
    const page = statements.seen.find((s) => s.includes('from directory_profile p'))!;
    const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${page}`, ['Media', 1, 'Chile', 1, 21]));
    const readsOfProfiles = plan.rows.map((r) => r.detail).filter((detail) => /^(SEARCH|SCAN) p\b/.test(detail));
    expect(readsOfProfiles).toEqual([
      expect.stringMatching(/^SEARCH p USING INDEX sqlite_autoindex_directory_profile_1 \(id=\?\)/),
      expect.stringMatching(/^SEARCH p USING COVERING INDEX directory_profile_(industry|country)_facets \(/),
    ]);
  });
});

describeEachDialect('directory: pages of filters that match often, read in name order', (dialect) => {
  let t: DirectoryTestApp;
  let admin: SignedIn;
  const rnd = seededRandom(5);
  const filters: ProfileFilter[] = [
    { level: 1, country: 'Chile' },
    { level: 0, industry: 'Media', country: 'Peru' },
    { level: 2, department: 'Science', program: 'Law' },
    { level: 1, yearFrom: 2000, skills: ['Rust'] },
    { level: 1, program: 'Music', yearTo: 2000 },
  ];
  beforeAll(async () => {
    t = await directoryApp({ dialect });
    admin = await signUpAdmin(t);
    for (let i = 0; i < 60; i++) await createProfile(t, admin, { name: `Person ${rnd.int(0, 30)}`, ...randomFields(rnd) });
  });
  afterAll(() => t.destroy());

  it.runIf(dialect === 'sqlite')('walk the name index that carries the filter columns: the same pages, in both orders, through every cursor', async () => {
    const repo = directoryRepo(t.core.database.db, dialect);
    for (const filter of filters) {
      for (const descending of [false, true]) {
        let after: [string | number, string] | undefined;
        let pages = 0;
        do {
          const spec = { key: 'name' as const, descending, after };
          const walked = await repo.search(filter, spec, 4, true);
          expect(walked, JSON.stringify({ filter, descending, after })).toEqual(await repo.search(filter, spec, 4, false));
          after = walked.length === 4 ? [walked[3]!.sort_value, walked[3]!.id] : undefined;
          pages++;
        } while (after);
        expect(pages).toBeGreaterThan(0);
      }
    }
    const statements = recordStatements();
    try {
      await repo.search({ level: 1, industry: 'Media', country: 'Chile' }, { key: 'name', descending: false, after: ['person 1', 'alm_0'] }, 21, true);
    } finally {
      statements.restore();
    }
    const page = statements.seen.find((s) => s.includes('from directory_profile p'))!;
    const plan = await t.core.database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${page}`, ['Media', 1, 'Chile', 1, 'person 1', 'alm_0', 21]));
    const details = plan.rows.map((r) => r.detail);
    // Read in name order from the cursor on, never from the profiles themselves; the one sort left is
    // of the page's rows (the filter's own index sorts all its matches first: two sorts).
    expect(details).toContainEqual(expect.stringMatching(/^SEARCH p USING COVERING INDEX directory_profile_name_facets \(\(name_key,id\)>\(\?,\?\)\)/));
    expect(details.filter((d) => d.includes('TEMP B-TREE'))).toHaveLength(1);
  });

  it.runIf(dialect === 'sqlite')('a search walks the name order when its filter matches often, and reads a rare filter from its own index', async () => {
    const node = createDirectoryService({ db: t.core.database.db, dialect, clock: t.core.clock, events: t.core.events, cursors: t.core.cursors, users: t.identity.users });
    await node.warmFacetIndex();
    const principal: Principal = { kind: 'user', userId: admin.userId, roles: [], permissions: new Set([MANAGE_PERMISSION]) };
    const walks = async (query: Record<string, unknown>) => {
      const statements = recordStatements();
      try {
        await node.search(principal, query);
      } finally {
        statements.restore();
      }
      return statements.seen.some((s) => s.includes('indexed by directory_profile_name_facets'));
    };
    // 60 profiles, pages of 20 (21 read): a filter must match 60 × 21 / 10,000 profiles, at least one.
    expect(await walks({ country: 'Chile' })).toBe(true);
    expect(await walks({ country: 'Atlantis' })).toBe(false);
    expect(await walks({ q: 'person', country: 'Chile' })).toBe(false);
    expect(await walks({ country: 'Chile', sort: 'graduationYear' })).toBe(false); // the year order is no index's
  });
});

describeEachDialect("directory: a node's in-memory facet index", (dialect) => {
  let t: DirectoryTestApp;
  let admin: SignedIn;
  const rnd = seededRandom(11);
  beforeAll(async () => {
    t = await directoryApp({ dialect });
    admin = await signUpAdmin(t);
  });
  afterAll(() => t.destroy());

  const repo = () => directoryRepo(t.core.database.db, dialect);
  /** A node's index of its own, over the database the app (another node) writes to. */
  const indexNode = () => createFacetIndex({ load: () => repo().facetSnapshot(), changesSince: (from, to) => repo().changesSince(from, to) });

  /** A filter without words: up to three conditions, some on values no profile has. */
  function randomFilter(): Omit<ProfileFilter, 'level'> {
    const filter: Record<string, unknown> = {};
    for (let n = rnd.int(1, 3); n > 0; n--) {
      const field = rnd.pick([...Object.keys(FIELDS), 'yearFrom', 'yearTo', 'skills']);
      if (field === 'yearFrom' || field === 'yearTo') filter[field] = rnd.pick([1998, 1999, 2000, 2021, 2022]);
      else if (field === 'skills') filter.skills = [...new Set([rnd.pick([...SKILLS, 'Cobol']), rnd.pick(SKILLS)])].slice(0, rnd.int(1, 2));
      else filter[field] = rnd.pick([...FIELDS[field as keyof typeof FIELDS], 'Nowhere']);
    }
    return filter;
  }

  /** Random filters at every level: the index's counts at the current version equal the SQL count's. */
  async function compare(index: ReturnType<typeof indexNode>, filters: number): Promise<number> {
    let matched = 0;
    for (let i = 0; i < filters; i++) {
      const filter = { ...randomFilter(), level: rnd.pick([0, 1, 2] as const) };
      const version = await repo().dataVersion();
      const expected = await repo().facetTally(filter);
      matched += expected.total;
      expect(await index.tally(version, filter), JSON.stringify(filter)).toEqual(expected);
    }
    return matched;
  }

  it('counts random filters for every viewer exactly as SQL does, loaded and then following writes made by another node', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await createProfile(t, admin, { name: `Indexed ${i}`, ...randomFields(rnd) })).id);
    const index = indexNode();
    let matched = await compare(index, 60);
    for (let step = 0; step < 60; step++) {
      const action = rnd.int(0, 3);
      if (action === 0) ids.push((await createProfile(t, admin, { name: `Person ${step}`, ...randomFields(rnd) })).id);
      else if (action === 1) expect((await call(t, 'DELETE', `/profiles/${ids.splice(rnd.int(0, ids.length - 1), 1)[0]}`, admin)).statusCode).toBe(204);
      else expect((await call(t, 'PATCH', `/profiles/${rnd.pick(ids)}`, admin, { name: `Changed ${step}`, ...randomFields(rnd) })).statusCode).toBe(200);
      if (step % 4 === 3) matched += await compare(index, 15);
    }
    await importCsv(t, admin, 'externalId,name,country,skills\nI-1,Imported One,Chile,Rust; SQL\nI-2,Imported Two,Peru,Go\n');
    matched += await compare(index, 40);
    expect(matched).toBeGreaterThan(100);
  });

  it('does not answer for a version it has moved past (the search counts that one in SQL)', async () => {
    const index = indexNode();
    const old = await repo().dataVersion();
    await createProfile(t, admin, { name: 'Later', country: 'Chile' });
    expect(await index.tally(await repo().dataVersion(), { level: 0, country: 'Chile' })).toBeDefined();
    expect(await index.tally(old, { level: 0, country: 'Chile' })).toBeUndefined();
  });

  it('answers a filtered search without words from the index: no counting statement', async () => {
    let counted = 0;
    const countTallies: KyselyPlugin = {
      transformQuery: (args) => {
        if (JSON.stringify(args.node).includes('with matching as materialized')) counted++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const db = t.core.database.db.withPlugin(countTallies);
    const node = createDirectoryService({ db, dialect, clock: t.core.clock, events: t.core.events, cursors: t.core.cursors, users: t.identity.users });
    const filters = [{ country: 'Chile' }, { country: 'Peru', program: 'Law' }, { skills: ['Rust'], yearFrom: 2000 }];
    for (const filter of filters) {
      const { total } = await node.search(null, filter);
      expect(total).toBe((await repo().facetTally({ ...filter, level: 0 })).total);
    }
    expect(counted).toBe(0);
    await node.search(null, { q: 'changed', country: 'Chile' });
    expect(counted, 'a search with words is still counted in SQL').toBe(1);
  });
});

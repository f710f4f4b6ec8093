import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../core/db/transaction.js';
import { communityApp, type CommunityTestApp } from '../../../test/support/community.js';
import { TEST_DATABASE_URL } from '../../../test/support/databases.js';
import { signUp, signUpAdmin, type SignedIn } from '../../../test/support/identity.js';
import { recordStatements } from '../../../test/support/statements.js';
import { communityRepo, type FeedKey, type FeedSort } from './community.repo.js';
import type { PostRow } from './community.tables.js';

/**
 * What a feed page costs the database, counted at the SQLite driver (timings depend on the
 * machine's load; statement counts do not). The feeds' behaviour is tested on both dialects in feeds.test.ts.
 */
describe('community: a feed page runs few statements, however many posts it shows (sqlite)', () => {
  let t: CommunityTestApp;
  let reader: SignedIn;
  let courseId: string;
  const statements = recordStatements();

  beforeAll(async () => {
    t = await communityApp({ dialect: 'sqlite' });
    const admin = await signUpAdmin(t);
    reader = await signUp(t);
    const authors = await Promise.all([1, 2, 3].map(() => signUp(t)));
    courseId = (await t.call(admin, 'POST', '/courses', { title: 'Counted', status: 'published', visibility: 'public' })).json().id;
    expect((await t.call(reader, 'POST', `/courses/${courseId}/enrollments`, {})).statusCode).toBeLessThan(300);
    for (const author of authors) await t.follow(reader, author);
    for (let i = 0; i < 8; i++) {
      for (const author of authors) {
        const post = await t.post(author, { visibility: i % 2 ? 'followers' : 'public' });
        expect((await t.call(reader, 'POST', `/posts/${post.id}/reactions`, { kind: 'like' })).statusCode).toBe(201);
      }
      await t.post(admin, { courseId });
      await t.post(reader);
    }
  }, 180_000);
  afterAll(async () => {
    statements.restore();
    await t?.destroy();
  });

  /** The statements one GET ran, with `in (?, ?, …)` lists written as `in (…)` (their length is the page's). */
  async function pageStatements(url: string): Promise<string[]> {
    statements.seen.length = 0;
    const res = await t.call(reader, 'GET', url);
    expect(res.statusCode, res.body).toBe(200);
    return statements.seen.splice(0).map((sql) => sql.replace(/in \(\?(, \?)*\)/g, 'in (…)'));
  }

  it.each(['recent', 'top'])('home feed (%s): four statements for a page of 2 and of 20, none per post', async (sort) => {
    const small = await pageStatements(`/feed?sort=${sort}&limit=2`);
    const large = await pageStatements(`/feed?sort=${sort}&limit=20`);
    expect(large).toEqual(small);
    const reads = small.map((sql) => [...sql.matchAll(/from "(\w+)"/g)].map((m) => m[1]).join(' '));
    expect(reads).toEqual([
      'learning_course learning_course_teacher learning_enrollment', // the reader's courses
      // The page, one UNION ALL: my posts, the followed authors' (follow × post), my courses'; blocked authors left out in each.
      'community_post community_block community_follow community_block community_post community_block',
      'identity_user', // the authors' names
      'community_reaction', // the reader's reactions to the page's posts
    ]);
  });

  // Each source's posts come from the index of the page's own order, so SQLite stops reading an
  // author or a course once their posts rank below the page; the other sort's index means sorting them all.
  it.each([
    ['recent', 'created_at', ''],
    ['top', 'hot_score', '_hot'],
  ] as Array<[FeedSort, string, string]>)('a %s page reads every source from the index of its order, first page and next', async (sort, key, index) => {
    const { db } = t.core.database;
    const scope = { anyBy: [reader.userId], followedBy: reader.userId, courseIds: [courseId] };
    const nextPage: FeedKey = sort === 'top' ? [1e6, 'pst_z'] : ['2100-01-01T00:00:00.000Z', 'pst_z'];
    for (const after of [undefined, nextPage]) {
      const listing = communityRepo(db).postListing(scope, { sort, limit: 21, after }, { blockerId: reader.userId })!.compile();
      const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${listing.sql}`, [...listing.parameters]));
      expect(plan.rows.map((r) => r.detail).filter((d) => d.startsWith('SEARCH community_post '))).toEqual([
        `SEARCH community_post USING INDEX community_post_author${index} (author_id=? AND ${key}<?)`,
        `SEARCH community_post USING INDEX community_post_author${index} (author_id=? AND ${key}<?)`,
        `SEARCH community_post USING INDEX community_post_course${index} (course_id=? AND ${key}<?)`,
      ]);
    }
  });
});

/** A node of PostgreSQL's EXPLAIN (FORMAT JSON) plan. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  'Index Cond'?: string;
  'Plan Rows'?: number;
  Filter?: string;
  Plans?: PlanNode[];
}
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

(TEST_DATABASE_URL ? describe : describe.skip)(`community: PostgreSQL reads a home page among the site's newest posts, or a page per source at most${TEST_DATABASE_URL ? '' : ' [postgres: skipped, TEST_DATABASE_URL not set]'}`, () => {
  let t: CommunityTestApp;
  let reader: SignedIn;
  let authors: SignedIn[];
  beforeAll(async () => {
    t = await communityApp({ dialect: 'postgres' });
    reader = await signUp(t);
    authors = await Promise.all([1, 2, 3].map(() => signUp(t)));
    for (const author of authors) {
      await t.follow(reader, author);
      for (let i = 0; i < 3; i++) await t.post(author, { visibility: i % 2 ? 'followers' : 'public' });
    }
  }, 180_000);
  afterAll(() => t?.destroy());

  /**
   * The plan of `build`'s query, every node. A test's few rows would be read whole (a sequential or
   * bitmap scan, then a sort); reading an index in order is what a real table's size makes the planner choose.
   */
  async function planOf(build: (repo: ReturnType<typeof communityRepo>) => { compile(): { sql: string; parameters: readonly unknown[] } }): Promise<PlanNode[]> {
    return withTransaction(t.core.database.db, async (tx) => {
      for (const setting of ['enable_seqscan', 'enable_bitmapscan']) await sql`select set_config(${setting}, 'off', true)`.execute(tx);
      const query = build(communityRepo(tx)).compile();
      const { rows } = await tx.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(CompiledQuery.raw(`explain (format json) ${query.sql}`, [...query.parameters]));
      return nodesOf(rows[0]!['QUERY PLAN'][0]!.Plan);
    });
  }

  // A plain join of follows and posts had the planner hash-join every post of the site and sort the
  // candidates (340–450 ms at 200,000 posts): nothing bounded how many of an author's posts it read.
  // `course_id IN (…)` read and sorted every post of the reader's courses likewise.
  it.each([
    ['recent', 'created_at', ''],
    ['top', 'hot_score', '_hot'],
  ] as Array<[FeedSort, string, string]>)('a %s page reads at most a page of each followed author and of each course, from the index of its order', async (sort, key, index) => {
    const scope = { anyBy: [reader.userId], followedBy: reader.userId, courseIds: ['crs_a', 'crs_b'] };
    const nextPage: FeedKey = sort === 'top' ? [1e6, 'pst_z'] : ['2100-01-01T00:00:00.000Z', 'pst_z'];
    for (const after of [undefined, nextPage]) {
      const nodes = await planOf((repo) => repo.postListing(scope, { sort, limit: 21, after }, { blockerId: reader.userId })!);
      const perSource = nodes.filter((n) => n['Node Type'] === 'Limit').flatMap((limit) => limit.Plans ?? []);
      for (const [source, column] of [['author', 'community_follow\\.followee_id'], ['course', '\\(unnest\\(.+\\)\\)']]) {
        expect(perSource).toContainEqual(
          expect.objectContaining({
            'Node Type': 'Index Scan',
            'Index Name': `community_post_${source}${index}`,
            'Scan Direction': 'Backward',
            'Index Cond': expect.stringMatching(new RegExp(`^\\(\\(${source}_id = ${column}\\) AND \\(${key} <= `)),
          }),
        );
      }
    }
  });

  // The home feed looks for its page among the site's newest (best) posts first: a reader of 2,000
  // authors read 42,000 rows source by source (200 ms), and every reader a page per author and course.
  it.each([
    ['recent', 'created_at', 'community_post_recent'],
    ['top', 'hot_score', 'community_post_hot'],
  ] as Array<[FeedSort, string, string]>)('the home feed window (%s) reads the site backwards from the index of its order, at most 50 rows per page row', async (sort, key, indexName) => {
    const scope = { anyBy: [reader.userId], followedBy: reader.userId, courseIds: ['crs_a'] };
    const nextPage: FeedKey = sort === 'top' ? [1e6, 'pst_z'] : ['2100-01-01T00:00:00.000Z', 'pst_z'];
    for (const after of [undefined, nextPage]) {
      const nodes = await planOf((repo) => repo.homeWindow(scope, { sort, limit: 21, after }, { blockerId: reader.userId }));
      expect(nodes.filter((n) => n['Node Type'] === 'Sort')).toEqual([]);
      const window = nodes.find((n) => n['Node Type'] === 'Limit' && n.Plans?.[0]?.['Index Name'] === indexName);
      expect(window?.Plans?.[0]).toMatchObject({ 'Scan Direction': 'Backward', 'Index Cond': expect.stringMatching(new RegExp(`^\\(${key} <= `)) });
      expect(window?.['Plan Rows']).toBeLessThanOrEqual(21 * 50);
    }
  });

  it.each(['recent', 'top'] as FeedSort[])('the window (%s) pages as the sources do; a window without a whole page falls back to them', async (sort) => {
    const repo = communityRepo(t.core.database.db);
    const [friend, hidden, blocked] = await Promise.all([signUp(t), signUp(t), signUp(t)]);
    const quietReader = await signUp(t);
    for (const author of [friend, hidden, blocked]) await t.follow(quietReader, author);
    for (let i = 0; i < 3; i++) {
      for (const author of [friend, hidden, blocked]) await t.post(author, { visibility: i % 2 ? 'followers' : 'public' });
      await t.post(quietReader);
    }
    const removed = await t.post(friend);
    await sql`update community_post set moderation = 'removed' where id = ${removed.id}`.execute(t.core.database.db);
    await sql`update community_post set moderation = 'hidden' where author_id = ${hidden.userId}`.execute(t.core.database.db);
    await repo.insertBlock(quietReader.userId, blocked.userId, new Date().toISOString());
    const scope = { anyBy: [quietReader.userId], followedBy: quietReader.userId };
    const options = { blockerId: quietReader.userId };
    const keyOf = (row: PostRow): FeedKey => (sort === 'top' ? [row.hot_score, row.id] : [row.created_at, row.id]);
    async function pages(read: (after?: FeedKey) => Promise<PostRow[]>): Promise<string[][]> {
      const all: string[][] = [];
      for (let after: FeedKey | undefined, page = await read(); page.length; page = await read(after)) {
        all.push(page.map((r) => r.id));
        after = keyOf(page.at(-1)!);
      }
      return all;
    }
    // Pages of 2: the window (2 × 50 rows) holds the whole feed, so each page but the last comes from it alone.
    const bySource = await pages(async (after) => (await repo.postListing(scope, { sort, limit: 2, after }, options)!.execute()) as PostRow[]);
    expect(bySource.flat()).toHaveLength(3 + 3); // the reader's and the friend's, none removed, hidden or blocked
    expect(await pages((after) => repo.homeWindow(scope, { sort, limit: 2, after }, options).execute() as Promise<PostRow[]>)).toEqual(bySource);
    expect(await pages((after) => repo.listPosts(scope, { sort, limit: 2, after }, options))).toEqual(bySource);
    // 100 newer (better) posts by others fill the window: it holds no page, and the sources still give it.
    for (let i = 0; i < 100; i++) await t.post(authors[i % 3]!);
    const firstBySource = (await repo.postListing(scope, { sort, limit: 2 }, options)!.execute()).map((r) => r.id);
    expect(await repo.homeWindow(scope, { sort, limit: 2 }, options).execute()).toEqual([]);
    expect((await repo.listPosts(scope, { sort, limit: 2 }, options)).map((r) => r.id)).toEqual(firstBySource);
    expect(firstBySource).toEqual(bySource[0]);
  }, 120_000);
});

import { sql, type ExpressionBuilder, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import { isPostgres } from '../../core/db/portable.js';
import type { CommentRow, CommunityTables, Moderated, PostRow, ReactionCounters, ReactionKind, ReactionRow, ReportRow } from './community.tables.js';

type Executor = Kysely<CommunityTables>;

/** Keyset "after" for a descending (text, text) key: rows strictly below (a, b). */
function below<T extends keyof CommunityTables>(eb: ExpressionBuilder<CommunityTables, T>, a: string, b: string, key: [string, string]) {
  const [x, y] = key;
  return eb.or([eb(sql.ref(a), '<', x), eb.and([eb(sql.ref(a), '=', x), eb(sql.ref(b), '<', y)])]);
}

/** A column of community_post, qualified: a listing branch may join community_follow, which has `created_at` too. */
const post = (column: keyof PostRow) => sql.ref(`community_post.${column}`);
/** One branch of a post listing (see `scopeBranches`). */
type Branch = SelectQueryBuilder<any, any, any>;

const counterColumn = (kind: ReactionKind) => `${kind}_count` as const;

export type FeedSort = 'recent' | 'top';
/** The keyset of a feed page: (created_at, id) for `recent`, (hot_score, id) for `top`. */
export type FeedKey = [string, string] | [number, string];

/** The column a sort ranks posts by (then by id). */
const sortKey = (sort: FeedSort) => (sort === 'top' ? 'hot_score' : 'created_at');

/** The home feed's window on PostgreSQL, in posts per row of the page (see `homeWindow`). */
const HOME_WINDOW = 50;

/** A query's posts in the page's order (the sort key, then id, both descending), the first `limit` of them. */
const inPageOrder = (query: Branch, feed: FeedQuery, limit: number): Branch => query.orderBy(post(sortKey(feed.sort)), 'desc').orderBy(post('id'), 'desc').limit(limit);

/** The posts of an author that their followers see (in a followed author's branch, and in the home window). */
const forFollowers = (eb: ExpressionBuilder<any, any>) => eb(post('visibility'), 'in', ['public', 'followers']);

/** Above every key of each sort: the bound of a first page (see `onPage`). */
const KEY_CEILING: Record<FeedSort, string | number> = { recent: '9999-12-31T23:59:59.999Z', top: Number.MAX_VALUE };

export interface FeedQuery {
  sort: FeedSort;
  limit: number;
  after?: FeedKey;
}

export interface ListOptions {
  /** Leaves out the posts of the users this user blocks. */
  blockerId?: string;
  unpinnedOnly?: boolean;
}

/** Which posts a listing may show (the union of these); every list is newest/top first with a stable keyset. */
export interface PostScope {
  /** Every post by these authors. */
  anyBy?: string[];
  /** Public and followers-only posts by the authors the viewer follows. */
  followedBy?: string;
  /** Public posts by these authors. */
  publicBy?: string[];
  /** Followers-only posts by these authors. */
  followersBy?: string[];
  /** Course posts of these courses (optionally only by `courseAuthor`). */
  courseIds?: string[];
  courseAuthor?: string;
}

/** Kysely queries on the community_* tables, and nothing else. `communityRepo(tx)` binds them to a transaction. */
export function communityRepo(handle: Db | Tx) {
  const db = handle as unknown as Executor;
  const anyDb = handle as Kysely<any>;

  /** Everyone `blockerId` blocks, as a subquery: lists leave their authors out in the statement that reads them. */
  const blockedBy = (blockerId: string) => db.selectFrom('community_block').select('blocked_id').where('blocker_id', '=', blockerId);

  /** Only what lists show: visible posts, never tombstones, nor (for `blockerId`) the authors they block. */
  function listable(query: Branch, options: ListOptions): Branch {
    // Hidden and removed posts are out of every list; their author and moderators open them one by one.
    let listed = query.where(post('moderation'), '=', 'visible');
    // Tombstones of deleted accounts' posts stay reachable by id (others' comments hang on them), never in a list.
    listed = listed.where(post('erased_at'), 'is', null);
    if (options.blockerId) listed = listed.where(post('author_id'), 'not in', blockedBy(options.blockerId));
    if (options.unpinnedOnly) listed = listed.where(post('pinned_at'), 'is', null);
    return listed;
  }

  /**
   * The bound of a page on its sort key. Every page bounds the key, the first one by a ceiling above
   * every key. The bound is what both planners turn into an index range (an OR alone is only a
   * filter: PostgreSQL read every newer row before the page), and it makes SQLite read an author's or
   * a course's posts from the index of this sort's key: on the author equality alone it may take the
   * other sort's index and sort every candidate (a second for a reader of 100 authors with 2,000 posts each).
   */
  function onPage(query: Branch, feed: FeedQuery): Branch {
    const key = sortKey(feed.sort);
    const [x, id] = feed.after ?? [KEY_CEILING[feed.sort], undefined];
    const bounded = query.where(post(key), '<=', x);
    if (id === undefined) return bounded;
    return bounded.where((eb) => eb.or([eb(post(key), '<', x), eb.and([eb(post(key), '=', x), eb(post('id'), '<', id)])]));
  }

  /** A source's posts in the page's order, at most a page of them: bounded, whatever the source's size. */
  const pageOf = (query: Branch, feed: FeedQuery, options: ListOptions): Branch => inPageOrder(onPage(listable(query, options), feed), feed, feed.limit);

  /**
   * PostgreSQL: for each row of `sources`, its posts (`post_column = source_column`) that may be on
   * the page: at most a page of them, read from the index of the page's order (LATERAL … LIMIT), then
   * merged under the page's `ORDER BY … LIMIT`. A plain join, or `IN (…)`, had the planner read and
   * sort every post of every source (a hash join of every post of the site for the followed authors:
   * 340–450 ms at 200,000 posts).
   */
  function pagePerSource(sources: Branch, sourceColumn: string, postColumn: 'author_id' | 'course_id', narrow: (query: Branch) => Branch, feed: FeedQuery, options: ListOptions): Branch {
    return sources
      .crossJoinLateral((eb: ExpressionBuilder<any, any>) =>
        pageOf(narrow(eb.selectFrom('community_post').selectAll('community_post').whereRef(`community_post.${postColumn}`, '=', sourceColumn)), feed, options).as('community_post'),
      )
      .selectAll('community_post');
  }

  /**
   * The followed authors' public and followers-only posts that may be on the page. On PostgreSQL,
   * each author's newest (or best) `feed.limit` posts (pagePerSource): the page is among them, and an
   * author's older posts are never read. SQLite has no LATERAL, and needs none: the CROSS JOIN fixes
   * its loop order — the follows, then each author's posts from the index of the page's order, into a
   * sorter that keeps only the page. ORed with the other sources, `author_id IN (followees)` fetched
   * and sorted every candidate row (10 ms for 10,000), and a free join order may walk the global time
   * index: every recent post, for a reader of a few quiet authors.
   */
  function followedPosts(followerId: string, exceptAuthors: string[] | undefined, feed: FeedQuery, options: ListOptions): Branch {
    const visibleToFollowers = (query: Branch) => query.where(forFollowers);
    if (isPostgres(anyDb)) {
      let follows: Branch = anyDb.selectFrom('community_follow').where('community_follow.follower_id', '=', followerId);
      if (exceptAuthors?.length) follows = follows.where('community_follow.followee_id', 'not in', exceptAuthors);
      return pagePerSource(follows, 'community_follow.followee_id', 'author_id', visibleToFollowers, feed, options);
    }
    let joined = anyDb
      .selectFrom('community_follow')
      .crossJoin('community_post')
      .where('community_follow.follower_id', '=', followerId)
      .whereRef('community_post.author_id', '=', 'community_follow.followee_id');
    if (exceptAuthors?.length) joined = joined.where(post('author_id'), 'not in', exceptAuthors);
    return onPage(listable(visibleToFollowers(joined.selectAll('community_post')), options), feed);
  }

  /** Course posts of `scope.courseIds` (by `scope.courseAuthor`, when given), except `exceptAuthors`'. On PostgreSQL a page per course (pagePerSource). */
  function coursePosts(scope: PostScope, exceptAuthors: string[] | undefined, feed: FeedQuery, options: ListOptions): Branch {
    const narrow = (query: Branch) => {
      let inCourse = query.where(post('visibility'), '=', 'course');
      if (scope.courseAuthor) inCourse = inCourse.where(post('author_id'), '=', scope.courseAuthor);
      return exceptAuthors?.length ? inCourse.where(post('author_id'), 'not in', exceptAuthors) : inCourse;
    };
    if (isPostgres(anyDb)) {
      const courses = anyDb.selectFrom(sql<{ course_id: string }>`(select unnest(cast(${scope.courseIds} as text[])) as course_id)`.as('course'));
      return pagePerSource(courses, 'course.course_id', 'course_id', narrow, feed, options);
    }
    return onPage(listable(narrow(anyDb.selectFrom('community_post').selectAll('community_post').where('course_id', 'in', scope.courseIds!)), options), feed);
  }

  /**
   * One query per kind of source in `scope`, each of only the posts that may be on the page. Every
   * branch but `anyBy` leaves out `anyBy`'s authors (whose posts it already has), so no post is in two branches.
   */
  function scopeBranches(scope: PostScope, feed: FeedQuery, options: ListOptions): Branch[] {
    const posts = () => anyDb.selectFrom('community_post').selectAll('community_post');
    const others = (branch: Branch) => (scope.anyBy?.length ? branch.where(post('author_id'), 'not in', scope.anyBy) : branch);
    const paged = (branch: Branch) => onPage(listable(branch, options), feed);
    const branches: Branch[] = [];
    if (scope.anyBy?.length) branches.push(paged(posts().where('author_id', 'in', scope.anyBy)));
    if (scope.publicBy?.length) branches.push(paged(others(posts().where('author_id', 'in', scope.publicBy).where('visibility', '=', 'public'))));
    if (scope.followersBy?.length) branches.push(paged(others(posts().where('author_id', 'in', scope.followersBy).where('visibility', '=', 'followers'))));
    if (scope.followedBy) branches.push(followedPosts(scope.followedBy, scope.anyBy, feed, options));
    if (scope.courseIds?.length) branches.push(coursePosts(scope, scope.anyBy, feed, options));
    return branches;
  }

  /**
   * Whether a post is one of the home feed's sources, as one condition: the branches scopeBranches
   * makes of a home scope (`anyBy`, `followedBy`, `courseIds`; listPosts uses it for no other).
   */
  function inHomeFeed(eb: ExpressionBuilder<any, any>, scope: PostScope) {
    const followees = eb.selectFrom('community_follow').select('followee_id').where('follower_id', '=', scope.followedBy!);
    const sources = [eb.and([forFollowers(eb), eb(post('author_id'), 'in', followees)])];
    if (scope.anyBy?.length) sources.push(eb(post('author_id'), 'in', scope.anyBy));
    if (scope.courseIds?.length) sources.push(eb.and([eb(post('visibility'), '=', 'course'), eb(post('course_id'), 'in', scope.courseIds)]));
    return eb.or(sources);
  }

  /**
   * PostgreSQL's home feed, read first: the page among the site's newest `feed.limit × HOME_WINDOW`
   * posts of the page's range (read backwards from the site-wide index of the page's order), or fewer
   * rows when they do not hold a whole page. A whole page found there is the page: every post outside
   * the window ranks below it. Source by source (postListing) costs a page per followed author and per
   * course (2,100 rows for 100 authors, 42,000 for 2,000); the window, at most its size, however many
   * sources. It is a statement of its own: in one with the branches, PostgreSQL planned them and JIT-
   * compiled that plan (60 ms for a reader of 2,000 authors) even when they never ran.
   */
  function homeWindow(scope: PostScope, feed: FeedQuery, options: ListOptions = {}) {
    const newest = inPageOrder(onPage(anyDb.selectFrom('community_post').selectAll('community_post'), feed), feed, feed.limit * HOME_WINDOW);
    const inWindow = anyDb.selectFrom(newest.as('community_post')).selectAll('community_post').where((eb) => inHomeFeed(eb, scope));
    return inPageOrder(listable(inWindow, options), feed, feed.limit);
  }

  /**
   * The query of a page of posts in `scope`, sorted and paged by keyset (undefined: an empty scope).
   * New posts only ever sort before a `recent` cursor, and a `top` score never depends on the time
   * of the query, so paging neither repeats nor skips while posts arrive.
   */
  function postListing(scope: PostScope, feed: FeedQuery, options: ListOptions = {}) {
    const key = sortKey(feed.sort);
    const [first, ...rest] = scopeBranches(scope, feed, options);
    if (!first) return undefined;
    const all = rest.reduce((union, branch) => union.unionAll(branch), first);
    return all.orderBy(key, 'desc').orderBy('id', 'desc').limit(feed.limit);
  }

  /** A page of posts in `scope`; on PostgreSQL the home feed tries homeWindow first (each statement's page is exact at its snapshot). */
  async function listPosts(scope: PostScope, feed: FeedQuery, options: ListOptions = {}): Promise<PostRow[]> {
    if (scope.followedBy && isPostgres(anyDb)) {
      const page = (await homeWindow(scope, feed, options).execute()) as PostRow[];
      if (page.length === feed.limit) return page;
    }
    return ((await postListing(scope, feed, options)?.execute()) ?? []) as PostRow[];
  }

  return {
    // ── posts ──────────────────────────────────────────────────────────────
    insertPost: (row: PostRow) => db.insertInto('community_post').values(row).execute(),
    findPost: (id: string) => db.selectFrom('community_post').selectAll().where('id', '=', id).executeTakeFirst(),
    findPosts: async (ids: readonly string[]) =>
      ids.length ? db.selectFrom('community_post').selectAll().where('id', 'in', [...ids]).execute() : [],
    /** Updates when the version matches; false when it did not. */
    async updatePost(id: string, version: number, changes: Partial<Omit<PostRow, 'id' | 'version'>>): Promise<boolean> {
      const result = await db.updateTable('community_post').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async deletePost(id: string): Promise<void> {
      await db.deleteFrom('community_reaction').where('post_id', '=', id).execute();
      await db.deleteFrom('community_comment').where('post_id', '=', id).execute();
      await db.deleteFrom('community_post').where('id', '=', id).execute();
    },
    /** Adds `delta` to a post counter in place (`x = x + delta`): concurrent writers never lose an update. False: no such post. */
    async bumpPost(id: string, column: 'comment_count' | keyof ReactionCounters, delta: number): Promise<boolean> {
      const result = await db
        .updateTable('community_post')
        .set({ [column]: sql`${sql.ref(column)} + ${delta}` } as never)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /**
     * Adds `deltas` to a post's counters in place and sets its "top" score from the counts they make,
     * in one statement (the right-hand side reads the row as it was). The score is hotScore's
     * (community.service.ts): log10(1 + reactions + 2 × comments), each count at least 0, plus the
     * post's `recency` term, which never changes.
     */
    async countOnPost(id: string, deltas: Partial<Record<'comment_count' | keyof ReactionCounters, number>>, recency: number): Promise<void> {
      const counted = (column: 'comment_count' | 'reaction_count') => sql<number>`(case when ${sql.ref(column)} + ${deltas[column] ?? 0} < 0 then 0 else ${sql.ref(column)} + ${deltas[column] ?? 0} end)`;
      await db
        .updateTable('community_post')
        .set({
          ...Object.fromEntries(Object.entries(deltas).map(([column, delta]) => [column, sql`${sql.ref(column)} + ${delta}`])),
          hot_score: sql<number>`log10(1 + ${counted('reaction_count')} + 2 * ${counted('comment_count')}) + ${recency}`,
        } as never)
        .where('id', '=', id)
        .execute();
    },
    postListing,
    homeWindow,
    listPosts,
    /** The courses that have course posts (by `authorId`, when given). */
    async courseIdsWithPosts(authorId?: string): Promise<string[]> {
      let query = db.selectFrom('community_post').select('course_id').distinct().where('visibility', '=', 'course').where('course_id', 'is not', null);
      if (authorId) query = query.where('author_id', '=', authorId);
      return (await query.execute()).map((r) => r.course_id!);
    },
    pinnedIn: (courseId: string) =>
      db.selectFrom('community_post').selectAll().where('course_id', '=', courseId).where('visibility', '=', 'course').where('pinned_at', 'is not', null).orderBy('pinned_at', 'desc').orderBy('id', 'desc').limit(20).execute(),
    /** Pins (a time) or unpins (null); the post's version moves on, as for any change. */
    setPinned: (id: string, pinnedAt: string | null) =>
      db.updateTable('community_post').set({ pinned_at: pinnedAt, version: sql<number>`version + 1` }).where('id', '=', id).execute(),
    setHotScore: (id: string, score: number) => db.updateTable('community_post').set({ hot_score: score }).where('id', '=', id).execute(),

    // ── comments ───────────────────────────────────────────────────────────
    insertComment: (row: CommentRow) => db.insertInto('community_comment').values(row).execute(),
    findComment: (id: string) => db.selectFrom('community_comment').selectAll().where('id', '=', id).executeTakeFirst(),
    async updateComment(id: string, version: number, changes: Partial<Omit<CommentRow, 'id' | 'version'>>): Promise<boolean> {
      const result = await db.updateTable('community_comment').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** Adds `deltas` to a comment's counters in place (`x = x + n`), in one statement. */
    async bumpComment(id: string, deltas: Partial<Record<'reply_count' | keyof ReactionCounters, number>>): Promise<void> {
      await db
        .updateTable('community_comment')
        .set(Object.fromEntries(Object.entries(deltas).map(([column, delta]) => [column, sql`${sql.ref(column)} + ${delta}`])) as never)
        .where('id', '=', id)
        .execute();
    },
    /** Deletes a comment, its replies and their reactions; returns how many comments went. */
    async deleteCommentTree(id: string): Promise<number> {
      const ids = (await db.selectFrom('community_comment').select('id').where((eb) => eb.or([eb('id', '=', id), eb('parent_id', '=', id)])).execute()).map((r) => r.id);
      if (!ids.length) return 0;
      await db.deleteFrom('community_reaction').where('target_type', '=', 'comment').where('target_id', 'in', ids).execute();
      await db.deleteFrom('community_comment').where('id', 'in', ids).execute();
      return ids.length;
    },
    /** Oldest first: top-level comments of a post, or the replies to `parentId` (moderated ones only for moderators). */
    listComments(postId: string, parentId: string | null, limit: number, after?: [string, string], options: { includeModerated?: boolean; blockerId?: string } = {}) {
      let query = db.selectFrom('community_comment').selectAll().where('post_id', '=', postId);
      if (!options.includeModerated) query = query.where('moderation', '=', 'visible');
      if (options.blockerId) query = query.where('author_id', 'not in', blockedBy(options.blockerId));
      query = parentId === null ? query.where('parent_id', 'is', null) : query.where('parent_id', '=', parentId);
      if (after) {
        const [x, y] = after;
        query = query.where((eb) => eb.or([eb('created_at', '>', x), eb.and([eb('created_at', '=', x), eb('id', '>', y)])]));
      }
      return query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(limit).execute();
    },

    // ── reactions ──────────────────────────────────────────────────────────
    /** True when the reaction is new; false when the user had already reacted with that kind. */
    async insertReaction(row: ReactionRow): Promise<boolean> {
      const result = await db
        .insertInto('community_reaction')
        .values(row)
        .onConflict((oc) => oc.columns(['target_type', 'target_id', 'user_id', 'kind']).doNothing())
        .returning('user_id')
        .execute();
      return result.length === 1;
    },
    findReaction: (targetType: 'post' | 'comment', targetId: string, userId: string, kind: ReactionKind) =>
      db
        .selectFrom('community_reaction')
        .selectAll()
        .where('target_type', '=', targetType)
        .where('target_id', '=', targetId)
        .where('user_id', '=', userId)
        .where('kind', '=', kind)
        .executeTakeFirst(),
    async deleteReaction(targetType: 'post' | 'comment', targetId: string, userId: string, kind: ReactionKind): Promise<boolean> {
      const result = await db
        .deleteFrom('community_reaction')
        .where('target_type', '=', targetType)
        .where('target_id', '=', targetId)
        .where('user_id', '=', userId)
        .where('kind', '=', kind)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    /** Newest first, keyset on (created_at, user_id || kind). */
    listReactions(targetType: 'post' | 'comment', targetId: string, kind: ReactionKind | undefined, limit: number, after?: [string, string]) {
      let query = db
        .selectFrom('community_reaction')
        .selectAll()
        .select(sql<string>`user_id || ':' || kind`.as('tiebreak'))
        .where('target_type', '=', targetType)
        .where('target_id', '=', targetId);
      if (kind) query = query.where('kind', '=', kind);
      if (after) {
        const [x, y] = after;
        query = query.where((eb) => eb.or([eb('created_at', '<', x), eb.and([eb('created_at', '=', x), eb(sql`user_id || ':' || kind`, '<', y)])]));
      }
      return query.orderBy('created_at', 'desc').orderBy(sql`user_id || ':' || kind`, 'desc').limit(limit).execute();
    },
    /** The kinds `userId` reacted with, per target id. */
    async reactionsBy(userId: string, targetType: 'post' | 'comment', targetIds: readonly string[]): Promise<Map<string, ReactionKind[]>> {
      const result = new Map<string, ReactionKind[]>();
      if (!targetIds.length) return result;
      const rows = await db
        .selectFrom('community_reaction')
        .select(['target_id', 'kind'])
        .where('user_id', '=', userId)
        .where('target_type', '=', targetType)
        .where('target_id', 'in', [...targetIds])
        .execute();
      for (const r of rows) result.set(r.target_id, [...(result.get(r.target_id) ?? []), r.kind]);
      return result;
    },

    // ── moderation ─────────────────────────────────────────────────────────
    async setModeration(table: 'community_post' | 'community_comment', id: string, fields: Moderated): Promise<void> {
      await (db as Kysely<any>).updateTable(table).set({ ...fields, version: sql`version + 1` }).where('id', '=', id).execute();
    },
    async insertReport(row: ReportRow): Promise<boolean> {
      const result = await db
        .insertInto('community_report')
        .values(row)
        .onConflict((oc) => oc.columns(['target_type', 'target_id', 'reporter_id']).doNothing())
        .returning('id')
        .execute();
      return result.length === 1;
    },
    findReport: (id: string) => db.selectFrom('community_report').selectAll().where('id', '=', id).executeTakeFirst(),
    findReportBy: (targetType: 'post' | 'comment', targetId: string, reporterId: string) =>
      db.selectFrom('community_report').selectAll().where('target_type', '=', targetType).where('target_id', '=', targetId).where('reporter_id', '=', reporterId).executeTakeFirst(),
    /** Oldest first (a queue); all courses' and none, or only reports on posts of `courseIds`. */
    listReports(status: ReportRow['status'], courseIds: readonly string[] | 'all', limit: number, after?: [string, string]) {
      let query = db.selectFrom('community_report').selectAll().where('status', '=', status);
      if (courseIds !== 'all') query = courseIds.length ? query.where('course_id', 'in', [...courseIds]) : query.where(sql<boolean>`1 = 0`);
      if (after) {
        const [x, y] = after;
        query = query.where((eb) => eb.or([eb('created_at', '>', x), eb.and([eb('created_at', '=', x), eb('id', '>', y)])]));
      }
      return query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(limit).execute();
    },
    async reportCourseIds(status: ReportRow['status']): Promise<string[]> {
      const rows = await db.selectFrom('community_report').select('course_id').distinct().where('status', '=', status).where('course_id', 'is not', null).execute();
      return rows.map((r) => r.course_id!);
    },
    /** Closes the open reports on a target with what was done; returns their ids. */
    async resolveReports(targetType: 'post' | 'comment', targetId: string, resolution: ReportRow['resolution'], by: string, at: string): Promise<string[]> {
      const rows = await db
        .updateTable('community_report')
        .set({ status: 'resolved', resolution, resolved_by: by, resolved_at: at, version: sql<number>`version + 1` })
        .where('target_type', '=', targetType)
        .where('target_id', '=', targetId)
        .where('status', '=', 'open')
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
    async updateReport(id: string, version: number, changes: Partial<Omit<ReportRow, 'id' | 'version'>>): Promise<boolean> {
      const result = await db.updateTable('community_report').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    // ── blocks ─────────────────────────────────────────────────────────────
    async insertBlock(blockerId: string, blockedId: string, createdAt: string): Promise<boolean> {
      const result = await db
        .insertInto('community_block')
        .values({ blocker_id: blockerId, blocked_id: blockedId, created_at: createdAt })
        .onConflict((oc) => oc.columns(['blocker_id', 'blocked_id']).doNothing())
        .returning('blocker_id')
        .execute();
      return result.length === 1;
    },
    async deleteBlock(blockerId: string, blockedId: string): Promise<boolean> {
      const result = await db.deleteFrom('community_block').where('blocker_id', '=', blockerId).where('blocked_id', '=', blockedId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async isBlocked(blockerId: string, blockedId: string): Promise<boolean> {
      return (await db.selectFrom('community_block').select('blocker_id').where('blocker_id', '=', blockerId).where('blocked_id', '=', blockedId).executeTakeFirst()) !== undefined;
    },
    listBlocks(blockerId: string, limit: number, after?: [string, string]) {
      let query = db.selectFrom('community_block').select(['blocked_id as user_id', 'created_at']).where('blocker_id', '=', blockerId);
      if (after) query = query.where((eb) => below(eb, 'created_at', 'blocked_id', after));
      return query.orderBy('created_at', 'desc').orderBy('blocked_id', 'desc').limit(limit).execute();
    },

    // ── follows ────────────────────────────────────────────────────────────
    async insertFollow(followerId: string, followeeId: string, createdAt: string): Promise<boolean> {
      const result = await db
        .insertInto('community_follow')
        .values({ follower_id: followerId, followee_id: followeeId, created_at: createdAt })
        .onConflict((oc) => oc.columns(['follower_id', 'followee_id']).doNothing())
        .returning('follower_id')
        .execute();
      return result.length === 1;
    },
    async deleteFollow(followerId: string, followeeId: string): Promise<boolean> {
      const result = await db.deleteFrom('community_follow').where('follower_id', '=', followerId).where('followee_id', '=', followeeId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async isFollowing(followerId: string, followeeId: string): Promise<boolean> {
      const row = await db.selectFrom('community_follow').select('follower_id').where('follower_id', '=', followerId).where('followee_id', '=', followeeId).executeTakeFirst();
      return row !== undefined;
    },
    /** Which of `followerIds` follow `followeeId`. */
    async followersAmong(followeeId: string, followerIds: readonly string[]): Promise<Set<string>> {
      if (!followerIds.length) return new Set();
      const rows = await db.selectFrom('community_follow').select('follower_id').where('followee_id', '=', followeeId).where('follower_id', 'in', [...followerIds]).execute();
      return new Set(rows.map((r) => r.follower_id));
    },
    /** Adds `delta` to a user's counter, creating the row the first time (an upsert: exact under concurrency). */
    async bumpStats(userId: string, column: 'follower_count' | 'following_count', delta: number): Promise<void> {
      await db
        .insertInto('community_user_stats')
        .values({ user_id: userId, follower_count: column === 'follower_count' ? delta : 0, following_count: column === 'following_count' ? delta : 0 })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ [column]: sql`${sql.ref(`community_user_stats.${column}`)} + ${delta}` } as never))
        .execute();
    },
    stats: (userId: string) => db.selectFrom('community_user_stats').selectAll().where('user_id', '=', userId).executeTakeFirst(),
    /** Newest first: who follows `userId` (`side` = 'followers') or whom `userId` follows ('following'). */
    listFollows(userId: string, side: 'followers' | 'following', limit: number, after?: [string, string]) {
      const [me, other] = side === 'followers' ? (['followee_id', 'follower_id'] as const) : (['follower_id', 'followee_id'] as const);
      let query = db.selectFrom('community_follow').select([sql.ref<string>(other).as('user_id'), 'created_at']).where(me, '=', userId);
      if (after) query = query.where((eb) => below(eb, 'created_at', other, after));
      return query.orderBy('created_at', 'desc').orderBy(other, 'desc').limit(limit).execute();
    },
  };
}

export type CommunityRepo = ReturnType<typeof communityRepo>;
export { counterColumn };

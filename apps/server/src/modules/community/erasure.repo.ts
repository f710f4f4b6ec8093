import { sql, type Kysely } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import type { CommunityTables } from './community.tables.js';

type Executor = Kysely<CommunityTables>;
type FollowSide = { mine: 'follower_id' | 'followee_id'; other: 'follower_id' | 'followee_id' };
type BlockSide = { mine: 'blocker_id' | 'blocked_id'; other: 'blocker_id' | 'blocked_id' };
/** Rows a batch looked at, and how many it really deleted (fewer when an overlapping run got there first). */
export type Batch = { found: number; deleted: number };

/** Per-target amounts to take off reaction counters. */
export interface ReactionTally {
  total: number;
  like: number;
  love: number;
  insightful: number;
  celebrate: number;
}

/** What a tombstone keeps: its place, id, author id and replies; never the text, mentions or reactions. */
const tombstone = (body: string, at: string) => ({
  body,
  mention_ids: '[]',
  erased_at: at,
  reaction_count: 0,
  like_count: 0,
  love_count: 0,
  insightful_count: 0,
  celebrate_count: 0,
  updated_at: at,
  version: sql<number>`version + 1`,
});

/**
 * The queries of a deleted account's erasure (community_* tables only). Every "find" is bounded by
 * `limit`; every delete returns what it really deleted, so that counters move by exactly that even
 * when two runs overlap.
 */
export function erasureRepo(handle: Db | Tx) {
  const db = handle as unknown as Executor;
  return {
    // ── reactions the user gave ────────────────────────────────────────────
    reactionsBy: (userId: string, limit: number) =>
      db.selectFrom('community_reaction').select(['target_id', 'post_id']).where('user_id', '=', userId).orderBy('target_id').limit(limit).execute(),
    deleteReactionsBy: (userId: string, targetIds: readonly string[]) =>
      db.deleteFrom('community_reaction').where('user_id', '=', userId).where('target_id', 'in', [...targetIds]).returning(['target_type', 'target_id', 'kind']).execute(),
    async subtractReactions(table: 'community_post' | 'community_comment', id: string, t: ReactionTally): Promise<void> {
      const minus = (column: string, n: number) => sql`${sql.ref(column)} - ${n}`;
      await (db as Kysely<any>)
        .updateTable(table)
        .set({
          reaction_count: minus('reaction_count', t.total),
          like_count: minus('like_count', t.like),
          love_count: minus('love_count', t.love),
          insightful_count: minus('insightful_count', t.insightful),
          celebrate_count: minus('celebrate_count', t.celebrate),
        })
        .where('id', '=', id)
        .execute();
    },
    /** Reactions of anyone on these targets (they go with a removed or tombstoned target, counters and all). */
    deleteReactionsOn: (targetType: 'post' | 'comment', targetIds: readonly string[]) =>
      db.deleteFrom('community_reaction').where('target_type', '=', targetType).where('target_id', 'in', [...targetIds]).execute(),

    // ── follows and blocks, either side ────────────────────────────────────
    async followCounterparts(userId: string, side: FollowSide, limit: number): Promise<string[]> {
      const rows = await db.selectFrom('community_follow').select(sql.ref<string>(side.other).as('other')).where(side.mine, '=', userId).limit(limit).execute();
      return rows.map((r) => r.other);
    },
    async deleteFollows(userId: string, side: FollowSide, others: readonly string[]): Promise<string[]> {
      const rows = await db.deleteFrom('community_follow').where(side.mine, '=', userId).where(side.other, 'in', [...others]).returning(sql.ref<string>(side.other).as('other')).execute();
      return rows.map((r) => r.other);
    },
    deleteStats: (userId: string) => db.deleteFrom('community_user_stats').where('user_id', '=', userId).execute(),
    async deleteBlocks(userId: string, side: BlockSide, limit: number): Promise<Batch> {
      const others = await db.selectFrom('community_block').select(sql.ref<string>(side.other).as('other')).where(side.mine, '=', userId).limit(limit).execute();
      if (!others.length) return { found: 0, deleted: 0 };
      const result = await db.deleteFrom('community_block').where(side.mine, '=', userId).where(side.other, 'in', others.map((r) => r.other)).executeTakeFirst();
      return { found: others.length, deleted: Number(result.numDeletedRows) };
    },

    // ── reports ────────────────────────────────────────────────────────────
    async deleteReportsBy(userId: string, limit: number): Promise<Batch> {
      const ids = (await db.selectFrom('community_report').select('id').where('reporter_id', '=', userId).limit(limit).execute()).map((r) => r.id);
      if (!ids.length) return { found: 0, deleted: 0 };
      return { found: ids.length, deleted: Number((await db.deleteFrom('community_report').where('id', 'in', ids).executeTakeFirst()).numDeletedRows) };
    },
    deleteReportsOn: (targetType: 'post' | 'comment', targetIds: readonly string[]) =>
      db.deleteFrom('community_report').where('target_type', '=', targetType).where('target_id', 'in', [...targetIds]).execute(),

    // ── comments the user wrote ────────────────────────────────────────────
    /** Replies (which never have replies), or top-level comments not yet tombstoned. */
    commentsBy(userId: string, kind: 'replies' | 'top-level', limit: number) {
      let query = db.selectFrom('community_comment').select(['id', 'post_id']).where('author_id', '=', userId);
      query = kind === 'replies' ? query.where('parent_id', 'is not', null) : query.where('parent_id', 'is', null).where('erased_at', 'is', null);
      return query.orderBy('id').limit(limit).execute();
    },
    findComments: (ids: readonly string[]) => db.selectFrom('community_comment').selectAll().where('id', 'in', [...ids]).execute(),
    async deleteComments(ids: readonly string[]) {
      await db.deleteFrom('community_reaction').where('target_type', '=', 'comment').where('target_id', 'in', [...ids]).execute();
      await db.deleteFrom('community_report').where('target_type', '=', 'comment').where('target_id', 'in', [...ids]).execute();
      return db.deleteFrom('community_comment').where('id', 'in', [...ids]).returning(['id', 'post_id', 'parent_id']).execute();
    },
    tombstoneComments: (ids: readonly string[], body: string, at: string) =>
      db.updateTable('community_comment').set(tombstone(body, at)).where('id', 'in', [...ids]).where('erased_at', 'is', null).returning(['id', 'post_id', 'version']).execute(),

    // ── posts the user wrote ───────────────────────────────────────────────
    async postsBy(userId: string, limit: number): Promise<string[]> {
      return (await db.selectFrom('community_post').select('id').where('author_id', '=', userId).where('erased_at', 'is', null).limit(limit).execute()).map((r) => r.id);
    },
    findPosts: (ids: readonly string[]) => db.selectFrom('community_post').selectAll().where('id', 'in', [...ids]).execute(),
    /** Deletes posts with everything hanging on them: reactions, comments, reports. */
    async deletePosts(ids: readonly string[]) {
      await db.deleteFrom('community_reaction').where('post_id', 'in', [...ids]).execute();
      await db.deleteFrom('community_report').where('post_id', 'in', [...ids]).execute();
      await db.deleteFrom('community_comment').where('post_id', 'in', [...ids]).execute();
      return db.deleteFrom('community_post').where('id', 'in', [...ids]).returning(['id']).execute();
    },
    tombstonePosts: (ids: readonly string[], body: string, at: string) =>
      db
        .updateTable('community_post')
        .set({ ...tombstone(body, at), attachment_ids: '[]', pinned_at: null })
        .where('id', 'in', [...ids])
        .where('erased_at', 'is', null)
        .returning(['id', 'version'])
        .execute(),

    // ── mentions of the user in others' writing ────────────────────────────
    /**
     * Rows after `afterId` whose mention list may name the user. `_` is a LIKE wildcard and ids
     * contain it, so this can over-match: the caller checks the parsed list.
     */
    mentioning: (table: 'community_post' | 'community_comment', userId: string, afterId: string, limit: number) =>
      (db as Kysely<any>)
        .selectFrom(table)
        .select(['id', 'mention_ids'])
        .where('id', '>', afterId)
        .where('mention_ids', 'like', `%"${userId}"%`)
        .orderBy('id')
        .limit(limit)
        .execute() as Promise<Array<{ id: string; mention_ids: string }>>,
    /** Compare-and-set: an edit that changed the list meanwhile re-resolved it already (deleted accounts drop out). */
    async setMentions(table: 'community_post' | 'community_comment', id: string, before: string, after: string): Promise<boolean> {
      const result = await (db as Kysely<any>)
        .updateTable(table)
        .set({ mention_ids: after, version: sql`version + 1` })
        .where('id', '=', id)
        .where('mention_ids', '=', before)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

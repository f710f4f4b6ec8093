import type { Clock } from '../../core/clock.js';
import type { Db, Tx } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import {
  CommunityEvents,
  type CommentDeletedPayload,
  type CommentUpdatedPayload,
  type PostDeletedPayload,
  type PostUpdatedPayload,
  type UserErasedPayload,
} from './community.events.js';
import { communityRepo } from './community.repo.js';
import { hotScore, lockPost } from './community.service.js';
import type { PostRow, ReactionKind } from './community.tables.js';
import { erasureRepo, type Batch, type ReactionTally } from './erasure.repo.js';

/** The text a tombstone shows in place of an erased post or comment. */
export const ERASED_BODY = '[deleted]';
/** The job that erases a deleted account's community data (one per account: see index.ts). */
export const ERASE_JOB = 'community.user.erase';

export interface ErasureDeps {
  db: Db;
  clock: Clock;
  events: EventLog;
  /** Rows per transaction (default 500): no erasure holds a long transaction, however much there is. */
  batchSize?: number;
}

const FOLLOWING = { mine: 'follower_id', other: 'followee_id' } as const;
const FOLLOWED = { mine: 'followee_id', other: 'follower_id' } as const;

function countBy<T>(rows: readonly T[], key: (row: T) => string | null): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) {
    const k = key(row);
    if (k !== null) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

function tallyReactions(rows: ReadonlyArray<{ target_type: 'post' | 'comment'; target_id: string; kind: ReactionKind }>) {
  const tallies = new Map<string, { table: 'community_post' | 'community_comment'; tally: ReactionTally }>();
  for (const r of rows) {
    const entry = tallies.get(r.target_id) ?? { table: r.target_type === 'post' ? 'community_post' : 'community_comment', tally: { total: 0, like: 0, love: 0, insightful: 0, celebrate: 0 } };
    entry.tally.total += 1;
    entry.tally[r.kind] += 1;
    tallies.set(r.target_id, entry);
  }
  return tallies;
}

const postScopes = (post: Pick<PostRow, 'author_id' | 'course_id' | 'visibility'>) => [
  `user:${post.author_id}`,
  ...(post.visibility === 'course' && post.course_id ? [`course:${post.course_id}`] : []),
];

/**
 * Erases what community holds of a deleted account (the rules are in docs/community.md). Every step
 * is a loop of short transactions over at most `batchSize` rows that finds only work not yet done,
 * and every counter moves by what a statement really deleted: running it twice, or on two nodes at
 * once, leaves the same result. Writers of one post lock its row first; a batch locks its posts in
 * id order before touching their comments and reactions, so it never deadlocks with them.
 */
export function createErasureService(deps: ErasureDeps) {
  const { db, clock, events } = deps;
  const limit = deps.batchSize ?? 500;

  async function lockPosts(tx: Tx, postIds: Iterable<string>): Promise<string[]> {
    const ids = [...new Set(postIds)].sort();
    for (const id of ids) await lockPost(communityRepo(tx), id);
    return ids;
  }

  async function refreshScores(tx: Tx, postIds: readonly string[]) {
    const r = communityRepo(tx);
    for (const post of await r.findPosts(postIds)) await r.setHotScore(post.id, hotScore(post));
  }

  /** Runs `step` in one transaction after another until a batch finds nothing left to do. */
  async function drain(signal: AbortSignal | undefined, step: (tx: Tx) => Promise<number>) {
    for (;;) {
      signal?.throwIfAborted();
      if ((await withTransaction(db, step)) === 0) return;
    }
  }

  return {
    async eraseUser(userId: string, signal?: AbortSignal): Promise<UserErasedPayload> {
      const done: UserErasedPayload = {
        userId,
        postsRemoved: 0,
        postsTombstoned: 0,
        commentsRemoved: 0,
        commentsTombstoned: 0,
        reactionsRemoved: 0,
        followsRemoved: 0,
        blocksRemoved: 0,
        reportsRemoved: 0,
        mentionsCleared: 0,
      };

      // Reactions the user gave: the counters of what they reacted to go down by exactly those.
      await drain(signal, async (tx) => {
        const e = erasureRepo(tx);
        const found = await e.reactionsBy(userId, limit);
        if (!found.length) return 0;
        const postIds = await lockPosts(tx, found.map((r) => r.post_id));
        const deleted = await e.deleteReactionsBy(userId, [...new Set(found.map((r) => r.target_id))]);
        for (const [targetId, { table, tally }] of tallyReactions(deleted)) await e.subtractReactions(table, targetId, tally);
        await refreshScores(tx, postIds);
        done.reactionsRemoved += deleted.length;
        return found.length;
      });

      // Follows both ways: the other side's following / follower count goes down by one each.
      for (const side of [FOLLOWING, FOLLOWED]) {
        await drain(signal, async (tx) => {
          const e = erasureRepo(tx);
          const found = await e.followCounterparts(userId, side, limit);
          if (!found.length) return 0;
          const gone = (await e.deleteFollows(userId, side, found)).sort();
          for (const other of gone) await communityRepo(tx).bumpStats(other, side === FOLLOWING ? 'follower_count' : 'following_count', -1);
          done.followsRemoved += gone.length;
          return found.length;
        });
      }
      await erasureRepo(db).deleteStats(userId);

      // Blocks either way and the reports the user filed: no counters hang on them.
      const removeRows = (batch: (tx: Tx) => Promise<Batch>, into: 'blocksRemoved' | 'reportsRemoved') =>
        drain(signal, async (tx) => {
          const { found, deleted } = await batch(tx);
          done[into] += deleted;
          return found;
        });
      await removeRows((tx) => erasureRepo(tx).deleteBlocks(userId, { mine: 'blocker_id', other: 'blocked_id' }, limit), 'blocksRemoved');
      await removeRows((tx) => erasureRepo(tx).deleteBlocks(userId, { mine: 'blocked_id', other: 'blocker_id' }, limit), 'blocksRemoved');
      await removeRows((tx) => erasureRepo(tx).deleteReportsBy(userId, limit), 'reportsRemoved');

      // Replies never have replies: they go, with their reactions and the reports on them.
      await drain(signal, async (tx) => {
        const e = erasureRepo(tx);
        const found = await e.commentsBy(userId, 'replies', limit);
        if (!found.length) return 0;
        const postIds = await lockPosts(tx, found.map((c) => c.post_id));
        const gone = await e.deleteComments(found.map((c) => c.id));
        await afterCommentsRemoved(tx, postIds, gone);
        await announceRemoved(tx, postIds, gone);
        return found.length;
      });

      // Top-level comments: removed when nobody answered them, else a tombstone that keeps the thread's shape.
      await drain(signal, async (tx) => {
        const e = erasureRepo(tx);
        const found = await e.commentsBy(userId, 'top-level', limit);
        if (!found.length) return 0;
        const postIds = await lockPosts(tx, found.map((c) => c.post_id));
        // Re-read under the post locks: a reply may have arrived since the batch was chosen.
        const current = (await e.findComments(found.map((c) => c.id))).filter((c) => c.erased_at === null);
        const answered = current.filter((c) => c.reply_count > 0).map((c) => c.id);
        const alone = current.filter((c) => c.reply_count === 0).map((c) => c.id);
        const gone = alone.length ? await e.deleteComments(alone) : [];
        await afterCommentsRemoved(tx, postIds, gone);
        let kept: Array<{ id: string; post_id: string; version: number }> = [];
        if (answered.length) {
          await e.deleteReactionsOn('comment', answered);
          await e.deleteReportsOn('comment', answered);
          kept = await e.tombstoneComments(answered, ERASED_BODY, clock.now().toISOString());
          done.commentsTombstoned += kept.length;
        }
        // Events last, once every row is written: appending takes the log's lock until commit.
        await announceRemoved(tx, postIds, gone);
        if (kept.length) {
          const authors = await postAuthors(tx, postIds);
          for (const c of kept) {
            await events.append<CommentUpdatedPayload>(tx, {
              type: CommunityEvents.commentUpdated,
              scopes: [`user:${authors.get(c.post_id)}`],
              payload: { postId: c.post_id, commentId: c.id, authorId: userId, version: c.version },
            });
          }
        }
        return found.length;
      });

      // Posts: removed with everything on them when nobody else commented, else a tombstone out of every feed.
      await drain(signal, async (tx) => {
        const e = erasureRepo(tx);
        const found = await e.postsBy(userId, limit);
        if (!found.length) return 0;
        const ids = await lockPosts(tx, found);
        const current = (await e.findPosts(ids)).filter((p) => p.erased_at === null);
        const alone = current.filter((p) => p.comment_count === 0);
        const answered = current.filter((p) => p.comment_count > 0);
        const gone = new Set(alone.length ? (await e.deletePosts(alone.map((p) => p.id))).map((p) => p.id) : []);
        done.postsRemoved += gone.size;
        let kept: Array<{ id: string; version: number }> = [];
        if (answered.length) {
          const answeredIds = answered.map((p) => p.id);
          await e.deleteReactionsOn('post', answeredIds);
          await e.deleteReportsOn('post', answeredIds);
          kept = await e.tombstonePosts(answeredIds, ERASED_BODY, clock.now().toISOString());
          await refreshScores(tx, answeredIds);
          done.postsTombstoned += kept.length;
        }
        for (const post of alone.filter((p) => gone.has(p.id))) {
          await events.append<PostDeletedPayload>(tx, { type: CommunityEvents.postDeleted, scopes: postScopes(post), payload: { postId: post.id, authorId: userId, deletedBy: userId } });
        }
        for (const { id, version } of kept) {
          const post = answered.find((p) => p.id === id)!;
          await events.append<PostUpdatedPayload>(tx, {
            type: CommunityEvents.postUpdated,
            scopes: postScopes(post),
            payload: { postId: id, authorId: userId, version, fields: ['body', 'attachmentIds', 'mentionIds'] },
          });
        }
        return found.length;
      });

      // Mentions of the user in others' posts and comments no longer point at them (the text stays: it is theirs).
      for (const table of ['community_post', 'community_comment'] as const) {
        for (let after = ''; ; ) {
          signal?.throwIfAborted();
          const rows = await erasureRepo(db).mentioning(table, userId, after, limit);
          if (!rows.length) break;
          for (const row of rows) {
            const ids = JSON.parse(row.mention_ids) as string[];
            if (!ids.includes(userId)) continue;
            if (await erasureRepo(db).setMentions(table, row.id, row.mention_ids, JSON.stringify(ids.filter((id) => id !== userId)))) done.mentionsCleared += 1;
          }
          after = rows.at(-1)!.id;
        }
      }

      await withTransaction(db, (tx) => events.append<UserErasedPayload>(tx, { type: CommunityEvents.userErased, scopes: ['system'], payload: done }));
      return done;

      async function postAuthors(tx: Tx, postIds: readonly string[]) {
        return new Map((await communityRepo(tx).findPosts(postIds)).map((p) => [p.id, p.author_id]));
      }

      /** Counters after comments went: the post's comment count, the parent's reply count. */
      async function afterCommentsRemoved(tx: Tx, postIds: readonly string[], gone: ReadonlyArray<{ id: string; post_id: string; parent_id: string | null }>) {
        if (!gone.length) return;
        const r = communityRepo(tx);
        for (const [postId, n] of countBy(gone, (c) => c.post_id)) await r.bumpPost(postId, 'comment_count', -n);
        for (const [parentId, n] of countBy(gone, (c) => c.parent_id)) await r.bumpComment(parentId, { reply_count: -n });
        await refreshScores(tx, postIds);
        done.commentsRemoved += gone.length;
      }

      async function announceRemoved(tx: Tx, postIds: readonly string[], gone: ReadonlyArray<{ id: string; post_id: string }>) {
        if (!gone.length) return;
        const authors = await postAuthors(tx, postIds);
        for (const c of gone) {
          await events.append<CommentDeletedPayload>(tx, {
            type: CommunityEvents.commentDeleted,
            scopes: [...new Set([`user:${authors.get(c.post_id)}`, `user:${userId}`])],
            payload: { postId: c.post_id, commentId: c.id, authorId: userId, deletedBy: userId, removed: 1 },
          });
        }
      }
    },
  };
}

export type ErasureService = ReturnType<typeof createErasureService>;

import type { Clock } from '../../core/clock.js';
import type { Db, Tx } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import type { Principal } from '../../core/http/access.js';
import { versionMismatch } from '../../core/http/etag.js';
import { toPage, type CursorCodec, type Page } from '../../core/http/pagination.js';
import { AppError, CoreErrors } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import { CommunityErrors, commentNotFound, courseNotFound, invalid, notAuthor, postNotFound, reportNotFound, userNotFound } from './community.errors.js';
import {
  CommunityEvents,
  type CommentCreatedPayload,
  type CommentDeletedPayload,
  type CommentUpdatedPayload,
  type FollowPayload,
  type MentionCreatedPayload,
  type PostCreatedPayload,
  type PostDeletedPayload,
  type PostPinPayload,
  type BlockPayload,
  type ModeratedPayload,
  type ReportPayload,
  type PostUpdatedPayload,
  type ReactionPayload,
} from './community.events.js';
import { communityRepo, counterColumn, type FeedKey, type FeedSort, type PostScope } from './community.repo.js';
import type {
  CommentCreate,
  CommentPatch,
  CommentQuery,
  CommentView,
  FollowEntryView,
  FollowStateView,
  PostCreate,
  PostPatch,
  ModerationBody,
  PostListQuery,
  PostView,
  ReactionQuery,
  ReportCreate,
  ReportPatch,
  ReportQuery,
  ReportView,
  ReactionView,
} from './community.schemas.js';
import type { CommentRow, PostRow, ReactionCounters, ReactionKind, ReportRow } from './community.tables.js';

/** What community needs to know of courses (the learning module provides it). */
export interface CourseMembership {
  roleIn(courseId: string, userId: string): Promise<'staff' | 'student' | null>;
  memberIds(courseId: string): Promise<string[]>;
  title(courseId: string): Promise<string | null>;
  /** The courses a user belongs to. */
  courseIdsOf(userId: string): Promise<string[]>;
}

/** Display names of accounts (identity's users directory). */
export interface UserLookup {
  lookup(ids: readonly string[]): Promise<Map<string, { id: string; displayName: string }>>;
}

export interface CommunityServiceDeps {
  db: Db;
  clock: Clock;
  events: EventLog;
  cursors: CursorCodec;
  users: UserLookup;
  courses?: CourseMembership;
}

export type Viewer = Pick<Principal, 'userId' | 'roles' | 'permissions'>;
type Target = { type: 'post'; post: PostRow; row: PostRow } | { type: 'comment'; post: PostRow; row: CommentRow };

/** Admins (or holders of `user:manage`) moderate: they see and may delete every post and comment. */
export const isModerator = (viewer: Viewer): boolean => viewer.roles.includes('admin') || viewer.permissions.has('user:manage');

/** 2024-01-01T00:00:00Z: the origin of the recency term of the "top" score. */
const SCORE_EPOCH_SECONDS = 1_704_067_200;
/** Seconds of recency worth one factor of ten in engagement (12.5 hours). */
const SCORE_DECAY_SECONDS = 45_000;

/**
 * The "top" ranking, after Reddit's "hot": log10(1 + reactions + 2 × comments) + (created − epoch) / 45,000 s.
 * It depends only on the post (never on the time of the query), so it is stored and pages by keyset;
 * a post 12.5 hours newer needs ten times less engagement to rank the same.
 */
export function hotScore(post: Pick<PostRow, 'created_at' | 'comment_count' | 'reaction_count'>): number {
  const engagement = Math.max(0, post.reaction_count) + 2 * Math.max(0, post.comment_count);
  return Math.log10(1 + engagement) + recencyOf(post.created_at);
}

/** The recency term of the "top" score: fixed at the post's creation (counter updates compute the rest in SQL, see `countOnPost`). */
export const recencyOf = (createdAt: string): number => (Date.parse(createdAt) / 1000 - SCORE_EPOCH_SECONDS) / SCORE_DECAY_SECONDS;

const MENTION_TOKEN = /(?:^|[^\w@])@(usr_[a-z0-9]{1,60})\b/g;
const MAX_MENTIONS = 20;
const mentionTokens = (text: string): string[] => [...new Set([...text.matchAll(MENTION_TOKEN)].map((m) => m[1]!))];
const parseIds = (json: string): string[] => JSON.parse(json) as string[];
const reactionCounts = (row: ReactionCounters) => ({ like: row.like_count, love: row.love_count, insightful: row.insightful_count, celebrate: row.celebrate_count });
/**
 * Takes the post's row lock (a no-op update): every transaction that writes a post's comments or
 * reactions takes it first, so that they serialise per post in one order and never deadlock.
 * False when the post is gone.
 */
export const lockPost = (r: ReturnType<typeof communityRepo>, postId: string) => r.bumpPost(postId, 'comment_count', 0);
const UNMODERATED = { moderation: 'visible', moderation_reason: null, moderated_by: null, moderated_at: null } as const;
const preview = (text: string) => (text.length > 140 ? `${text.slice(0, 139)}…` : text);

export function decodeKey(cursors: CursorCodec, cursor: string | undefined, kinds: Array<'string' | 'number'>): Array<string | number> | undefined {
  if (cursor === undefined) return undefined;
  const values = cursors.decode(cursor);
  if (values.length !== kinds.length || values.some((v, i) => typeof v !== kinds[i])) {
    throw new AppError(400, CoreErrors.PAGINATION_INVALID_CURSOR, 'The cursor is not one this server issued for this list.');
  }
  return values as Array<string | number>;
}

export function createCommunityService(deps: CommunityServiceDeps) {
  const { db, clock, events, cursors, users, courses } = deps;
  const repo = communityRepo(db);

  // ── visibility ─────────────────────────────────────────────────────────
  const isCourseStaff = async (post: Pick<PostRow, 'visibility' | 'course_id'>, viewer: Viewer) =>
    post.visibility === 'course' && post.course_id !== null && courses !== undefined && (await courses.roleIn(post.course_id, viewer.userId)) === 'staff';

  /** Who may see a hidden or removed post or comment: moderators, the course staff, and (hidden only) its author. */
  async function canSeeModerated(target: Pick<PostRow, 'moderation' | 'author_id'>, post: PostRow, viewer: Viewer): Promise<boolean> {
    if (target.moderation === 'visible' || isModerator(viewer)) return true;
    if (target.moderation === 'hidden' && target.author_id === viewer.userId) return true;
    return isCourseStaff(post, viewer);
  }

  async function canSee(post: PostRow, viewer: Viewer): Promise<boolean> {
    if (!(await canSeeModerated(post, post, viewer))) return false;
    if (post.author_id === viewer.userId || isModerator(viewer)) return true;
    if (post.visibility === 'public') return true;
    if (post.visibility === 'followers') return repo.isFollowing(viewer.userId, post.author_id);
    if (post.visibility === 'course' && post.course_id && courses) return (await courses.roleIn(post.course_id, viewer.userId)) !== null;
    return false;
  }

  /** The post, if the viewer may see it; 404 otherwise (never "it exists but is not for you"). */
  async function visiblePost(id: string, viewer: Viewer): Promise<PostRow> {
    const post = await repo.findPost(id);
    if (!post || !(await canSee(post, viewer))) throw postNotFound();
    return post;
  }

  async function visibleComment(id: string, viewer: Viewer): Promise<{ comment: CommentRow; post: PostRow }> {
    const comment = await repo.findComment(id);
    if (!comment) throw commentNotFound();
    const post = await repo.findPost(comment.post_id);
    if (!post || !(await canSee(post, viewer)) || !(await canSeeModerated(comment, post, viewer))) throw commentNotFound();
    return { comment, post };
  }

  /** Which of `userIds` may see `post` (mentions notify only those who can read what mentions them). */
  async function audienceAmong(post: Pick<PostRow, 'author_id' | 'visibility' | 'course_id'>, userIds: string[]): Promise<string[]> {
    if (!userIds.length || post.visibility === 'public') return userIds;
    if (post.visibility === 'followers') {
      const followers = await repo.followersAmong(post.author_id, userIds);
      return userIds.filter((id) => followers.has(id));
    }
    if (!courses || !post.course_id) return [];
    const courseId = post.course_id;
    const roles = await Promise.all(userIds.map((id) => courses.roleIn(courseId, id)));
    return userIds.filter((_, i) => roles[i] !== null);
  }

  /**
   * Mentions: the explicit ids (which must be existing accounts), plus `@usr_…` tokens of the text
   * that name existing accounts, plus `kept` ids carried over from before an edit; never the author.
   */
  async function resolveMentions(text: string, explicit: readonly string[], authorId: string, kept: readonly string[] = []): Promise<string[]> {
    const tokens = mentionTokens(text);
    const found = await users.lookup([...explicit, ...tokens, ...kept]);
    const unknown = explicit.filter((id) => !found.has(id));
    if (unknown.length) {
      throw new AppError(422, CommunityErrors.COMMUNITY_MENTION_UNKNOWN, `No such user: ${unknown.join(', ')}.`, {
        errors: unknown.map(() => ({ path: '/body/mentionIds', message: 'no such user' })),
      });
    }
    const ids = [...new Set([...explicit, ...kept.filter((id) => found.has(id)), ...tokens.filter((id) => found.has(id))])].filter((id) => id !== authorId);
    return ids.slice(0, MAX_MENTIONS);
  }

  async function appendMentions(tx: Tx, userIds: string[], payload: Omit<MentionCreatedPayload, 'userId'>) {
    for (const userId of userIds) {
      await events.append<MentionCreatedPayload>(tx, { type: CommunityEvents.mentionCreated, scopes: [`user:${userId}`], payload: { userId, ...payload }, actorId: payload.authorId });
    }
  }

  const postScopes = (post: Pick<PostRow, 'author_id' | 'course_id' | 'visibility'>) => [
    `user:${post.author_id}`,
    ...(post.visibility === 'course' && post.course_id ? [`course:${post.course_id}`] : []),
  ];

  /** Counts a reaction added (1) or taken back (-1) on its target, and moves a post's score with it: one statement. */
  async function countReaction(r: ReturnType<typeof communityRepo>, target: Target, kind: ReactionKind, delta: 1 | -1) {
    const deltas = { reaction_count: delta, [counterColumn(kind)]: delta };
    if (target.type === 'post') await r.countOnPost(target.post.id, deltas, recencyOf(target.post.created_at));
    else await r.bumpComment(target.row.id, deltas);
  }

  // ── views ──────────────────────────────────────────────────────────────
  async function postViews(rows: PostRow[], viewer: Viewer): Promise<PostView[]> {
    const [names, mine] = await Promise.all([
      users.lookup(rows.map((r) => r.author_id)),
      repo.reactionsBy(viewer.userId, 'post', rows.map((r) => r.id)),
    ]);
    return rows.map((r) => ({
      id: r.id,
      authorId: r.author_id,
      authorName: names.get(r.author_id)?.displayName ?? null,
      body: r.body,
      attachmentIds: parseIds(r.attachment_ids),
      visibility: r.visibility,
      courseId: r.course_id,
      mentionIds: parseIds(r.mention_ids),
      commentCount: r.comment_count,
      reactionCount: r.reaction_count,
      reactions: reactionCounts(r),
      myReactions: mine.get(r.id) ?? [],
      pinned: r.pinned_at !== null,
      moderation: r.moderation,
      moderationReason: r.moderation_reason,
      version: r.version,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async function commentViews(rows: CommentRow[], viewer: Viewer): Promise<CommentView[]> {
    const [names, mine] = await Promise.all([
      users.lookup(rows.map((r) => r.author_id)),
      repo.reactionsBy(viewer.userId, 'comment', rows.map((r) => r.id)),
    ]);
    return rows.map((r) => ({
      id: r.id,
      postId: r.post_id,
      parentId: r.parent_id,
      authorId: r.author_id,
      authorName: names.get(r.author_id)?.displayName ?? null,
      body: r.body,
      mentionIds: parseIds(r.mention_ids),
      replyCount: r.reply_count,
      reactionCount: r.reaction_count,
      reactions: reactionCounts(r),
      myReactions: mine.get(r.id) ?? [],
      moderation: r.moderation,
      moderationReason: r.moderation_reason,
      version: r.version,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  const postView = async (row: PostRow, viewer: Viewer) => (await postViews([row], viewer))[0]!;
  const commentView = async (row: CommentRow, viewer: Viewer) => (await commentViews([row], viewer))[0]!;

  function checkVersion(current: number, expected: number | undefined) {
    if (expected !== undefined && expected !== current) throw versionMismatch(current);
  }

  async function resolveTarget(type: 'post' | 'comment', id: string, viewer: Viewer): Promise<Target> {
    if (type === 'post') {
      const post = await visiblePost(id, viewer);
      return { type, post, row: post };
    }
    const { comment, post } = await visibleComment(id, viewer);
    return { type, post, row: comment };
  }

  /** The courses the viewer belongs to, among `candidates` (default: all of them). */
  async function myCourseIds(viewer: Viewer, candidates?: string[]): Promise<string[]> {
    if (!courses) return [];
    const mine = await courses.courseIdsOf(viewer.userId);
    return candidates ? mine.filter((id) => candidates.includes(id)) : mine;
  }

  /** The viewer's role in a course, or 404 when they are not in it (moderators see every existing course). */
  async function courseAccess(viewer: Viewer, courseId: string): Promise<'staff' | 'student' | 'moderator'> {
    if (!courses) throw courseNotFound();
    const role = await courses.roleIn(courseId, viewer.userId);
    if (role) return role;
    if (isModerator(viewer) && (await courses.title(courseId)) !== null) return 'moderator';
    throw courseNotFound();
  }

  async function postPage(viewer: Viewer, scope: PostScope, query: PostListQuery, options: { unpinnedOnly?: boolean } = {}): Promise<Page<PostView>> {
    const sort: FeedSort = query.sort ?? 'recent';
    const limit = query.limit ?? 20;
    const after = decodeKey(cursors, query.cursor, sort === 'top' ? ['number', 'string'] : ['string', 'string']) as FeedKey | undefined;
    const rows = await repo.listPosts(scope, { sort, limit: limit + 1, after }, { ...options, blockerId: viewer.userId });
    const page = toPage(rows, limit, cursors, (r) => (sort === 'top' ? [r.hot_score, r.id] : [r.created_at, r.id]));
    return { items: await postViews(page.items, viewer), nextCursor: page.nextCursor };
  }

  async function setPin(viewer: Viewer, postId: string, pinned: boolean): Promise<PostRow> {
    const post = await visiblePost(postId, viewer);
    if (post.visibility !== 'course' || !post.course_id) throw invalid(CommunityErrors.COMMUNITY_NOT_A_COURSE_POST, '/params/id', 'Only course posts are pinned, in their course feed.');
    const courseId = post.course_id;
    if (!isModerator(viewer) && (await courseAccess(viewer, courseId)) === 'student') throw new AppError(403, CommunityErrors.FORBIDDEN, "Only the course's staff pin posts.");
    return withTransaction(db, async (tx) => {
      const r = communityRepo(tx);
      const current = await r.findPost(postId);
      if (!current) throw postNotFound();
      if ((current.pinned_at !== null) === pinned) return current;
      await r.setPinned(postId, pinned ? clock.now().toISOString() : null);
      await events.append<PostPinPayload>(tx, {
        type: pinned ? CommunityEvents.postPinned : CommunityEvents.postUnpinned,
        scopes: [`course:${courseId}`, `user:${post.author_id}`],
        payload: { postId, courseId, byId: viewer.userId },
        actorId: viewer.userId,
      });
      return (await r.findPost(postId))!;
    });
  }

  async function mayModerateReport(report: ReportRow, viewer: Viewer): Promise<boolean> {
    if (isModerator(viewer)) return true;
    return report.course_id !== null && courses !== undefined && (await courses.roleIn(report.course_id, viewer.userId)) === 'staff';
  }

  async function reportViews(rows: ReportRow[]): Promise<ReportView[]> {
    return Promise.all(
      rows.map(async (r) => {
        const target = r.target_type === 'post' ? await repo.findPost(r.target_id) : await repo.findComment(r.target_id);
        return {
          id: r.id,
          targetType: r.target_type,
          targetId: r.target_id,
          postId: r.post_id,
          courseId: r.course_id,
          reporterId: r.reporter_id,
          reason: r.reason,
          note: r.note,
          status: r.status,
          resolution: r.resolution,
          resolvedBy: r.resolved_by,
          resolvedAt: r.resolved_at,
          preview: target ? preview(target.body) : null,
          version: r.version,
          createdAt: r.created_at,
        };
      }),
    );
  }

  return {
    canSee,
    postViews,

    // ── feeds ────────────────────────────────────────────────────────────
    /** Home: the viewer's own posts, public and followers-only posts of whom they follow, and their courses' posts. */
    async homeFeed(viewer: Viewer, query: PostListQuery): Promise<Page<PostView>> {
      return postPage(viewer, { anyBy: [viewer.userId], followedBy: viewer.userId, courseIds: await myCourseIds(viewer) }, query);
    },

    /** A user's posts, as far as the viewer may see them. */
    async userPosts(viewer: Viewer, userId: string, query: PostListQuery): Promise<Page<PostView>> {
      if (userId === viewer.userId || isModerator(viewer)) return postPage(viewer, { anyBy: [userId] }, query);
      if (!(await users.lookup([userId])).has(userId)) throw userNotFound();
      const [following, courseIds] = await Promise.all([repo.isFollowing(viewer.userId, userId), repo.courseIdsWithPosts(userId).then((ids) => myCourseIds(viewer, ids))]);
      return postPage(viewer, { publicBy: [userId], followersBy: following ? [userId] : [], courseIds, courseAuthor: userId }, query);
    },

    /** A course's posts, for its members, staff and moderators; pinned posts ride along on the first page. */
    async courseFeed(viewer: Viewer, courseId: string, query: PostListQuery): Promise<Page<PostView> & { pinned: PostView[] }> {
      await courseAccess(viewer, courseId);
      const page = await postPage(viewer, { courseIds: [courseId] }, query, { unpinnedOnly: true });
      const pinned = query.cursor === undefined ? await postViews(await repo.pinnedIn(courseId), viewer) : [];
      return { ...page, pinned };
    },

    async pin(viewer: Viewer, postId: string): Promise<PostView> {
      return postView(await setPin(viewer, postId, true), viewer);
    },

    async unpin(viewer: Viewer, postId: string): Promise<void> {
      await setPin(viewer, postId, false);
    },

    // ── posts ────────────────────────────────────────────────────────────
    async createPost(viewer: Viewer, input: PostCreate): Promise<PostView> {
      const visibility = input.visibility ?? (input.courseId ? 'course' : 'public');
      const courseId = input.courseId ?? null;
      if (visibility === 'course') {
        if (!courseId) throw invalid(CommunityErrors.COMMUNITY_COURSE_REQUIRED, '/body/courseId', 'A course post needs courseId.');
        if (!courses) throw invalid(CommunityErrors.COMMUNITY_COURSES_UNAVAILABLE, '/body/visibility', 'Courses are not available on this server.');
        const role = await courses.roleIn(courseId, viewer.userId);
        if (role === null && !(isModerator(viewer) && (await courses.title(courseId)) !== null)) throw courseNotFound();
      } else if (courseId) {
        throw invalid(CommunityErrors.COMMUNITY_COURSE_REQUIRED, '/body/courseId', 'courseId goes with visibility "course" only.');
      }
      const now = clock.now().toISOString();
      const mentions = await resolveMentions(input.body, input.mentionIds ?? [], viewer.userId);
      const row: PostRow = {
        id: newId('pst'),
        author_id: viewer.userId,
        body: input.body,
        attachment_ids: JSON.stringify(input.attachmentIds ?? []),
        visibility,
        course_id: visibility === 'course' ? courseId : null,
        mention_ids: JSON.stringify(mentions),
        comment_count: 0,
        reaction_count: 0,
        like_count: 0,
        love_count: 0,
        insightful_count: 0,
        celebrate_count: 0,
        hot_score: 0,
        pinned_at: null,
        erased_at: null,
        ...UNMODERATED,
        version: 1,
        created_at: now,
        updated_at: now,
      };
      row.hot_score = hotScore(row);
      const notify = await audienceAmong(row, mentions);
      await withTransaction(db, async (tx) => {
        await communityRepo(tx).insertPost(row);
        await events.append<PostCreatedPayload>(tx, {
          type: CommunityEvents.postCreated,
          scopes: postScopes(row),
          payload: { postId: row.id, authorId: row.author_id, visibility, ...(row.course_id ? { courseId: row.course_id } : {}) },
          actorId: viewer.userId,
        });
        await appendMentions(tx, notify, { authorId: viewer.userId, postId: row.id });
      });
      return postView(row, viewer);
    },

    async getPost(viewer: Viewer, id: string): Promise<PostView> {
      return postView(await visiblePost(id, viewer), viewer);
    },

    async updatePost(viewer: Viewer, id: string, expected: number | undefined, patch: PostPatch): Promise<PostView> {
      const post = await visiblePost(id, viewer);
      if (post.author_id !== viewer.userId) throw notAuthor('post');
      checkVersion(post.version, expected ?? patch.version);
      if (patch.visibility && post.visibility === 'course') {
        throw invalid(CommunityErrors.COMMUNITY_COURSE_REQUIRED, '/body/visibility', 'A course post stays in its course.');
      }
      const body = patch.body ?? post.body;
      const before = parseIds(post.mention_ids);
      const mentionsChanged = patch.body !== undefined || patch.mentionIds !== undefined;
      const mentions = mentionsChanged
        ? await resolveMentions(body, patch.mentionIds ?? [], viewer.userId, patch.mentionIds ? [] : before.filter((m) => !mentionTokens(post.body).includes(m)))
        : before;
      const changes: Partial<PostRow> = { updated_at: clock.now().toISOString() };
      const fields: string[] = [];
      if (patch.body !== undefined) (changes.body = patch.body), fields.push('body');
      if (patch.attachmentIds !== undefined) (changes.attachment_ids = JSON.stringify(patch.attachmentIds)), fields.push('attachmentIds');
      if (patch.visibility !== undefined) (changes.visibility = patch.visibility), fields.push('visibility');
      if (mentionsChanged && JSON.stringify(mentions) !== post.mention_ids) (changes.mention_ids = JSON.stringify(mentions)), fields.push('mentionIds');
      const after = { ...post, ...changes };
      const added = await audienceAmong(after, mentions.filter((m) => !before.includes(m)));
      const updated = await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        if (!(await r.updatePost(id, post.version, changes))) {
          const current = await r.findPost(id);
          if (!current) throw postNotFound();
          throw versionMismatch(current.version);
        }
        await events.append<PostUpdatedPayload>(tx, {
          type: CommunityEvents.postUpdated,
          scopes: postScopes(after),
          payload: { postId: id, authorId: post.author_id, version: post.version + 1, fields },
          actorId: viewer.userId,
        });
        await appendMentions(tx, added, { authorId: viewer.userId, postId: id });
        return (await r.findPost(id))!;
      });
      return postView(updated, viewer);
    },

    async deletePost(viewer: Viewer, id: string, expected: number | undefined): Promise<void> {
      const post = await visiblePost(id, viewer);
      if (post.author_id !== viewer.userId && !isModerator(viewer)) throw notAuthor('post');
      checkVersion(post.version, expected);
      await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        // Lock the post row before its comments, in the order writers of comments take them (no deadlock).
        await lockPost(r, id);
        const current = await r.findPost(id);
        if (!current) throw postNotFound();
        checkVersion(current.version, expected);
        await r.deletePost(id);
        await events.append<PostDeletedPayload>(tx, {
          type: CommunityEvents.postDeleted,
          scopes: postScopes(post),
          payload: { postId: id, authorId: post.author_id, deletedBy: viewer.userId },
          actorId: viewer.userId,
        });
      });
    },

    // ── comments ─────────────────────────────────────────────────────────
    async createComment(viewer: Viewer, postId: string, input: CommentCreate): Promise<CommentView> {
      const post = await visiblePost(postId, viewer);
      let parent: CommentRow | undefined;
      if (input.parentId !== undefined) {
        parent = await repo.findComment(input.parentId);
        if (!parent || parent.post_id !== postId) throw invalid(CommunityErrors.COMMUNITY_PARENT_NOT_FOUND, '/body/parentId', 'No such comment on this post.');
        if (parent.parent_id !== null) throw invalid(CommunityErrors.COMMUNITY_REPLY_TOO_DEEP, '/body/parentId', 'Replies cannot be answered: reply to the top-level comment.');
      }
      const mentions = await resolveMentions(input.body, input.mentionIds ?? [], viewer.userId);
      const notify = await audienceAmong(post, mentions);
      const now = clock.now().toISOString();
      const row: CommentRow = {
        id: newId('cmt'),
        post_id: postId,
        parent_id: parent?.id ?? null,
        author_id: viewer.userId,
        body: input.body,
        mention_ids: JSON.stringify(mentions),
        reply_count: 0,
        erased_at: null,
        reaction_count: 0,
        like_count: 0,
        love_count: 0,
        insightful_count: 0,
        celebrate_count: 0,
        ...UNMODERATED,
        version: 1,
        created_at: now,
        updated_at: now,
      };
      await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        // Lock the post first (every writer of its comments does), which also tells whether it is still
        // there, then re-read the parent: either may have gone since the checks above, and a reply must
        // never outlive its parent.
        if (!(await lockPost(r, postId))) throw postNotFound();
        if (parent && !(await r.findComment(parent.id))) throw invalid(CommunityErrors.COMMUNITY_PARENT_NOT_FOUND, '/body/parentId', 'No such comment on this post.');
        await r.insertComment(row);
        await r.countOnPost(postId, { comment_count: 1 }, recencyOf(post.created_at));
        if (parent) await r.bumpComment(parent.id, { reply_count: 1 });
        const scopes = [...new Set([`user:${post.author_id}`, ...(parent ? [`user:${parent.author_id}`] : [])])];
        await events.append<CommentCreatedPayload>(tx, {
          type: CommunityEvents.commentCreated,
          scopes,
          payload: {
            postId,
            commentId: row.id,
            authorId: viewer.userId,
            postAuthorId: post.author_id,
            ...(parent ? { parentCommentId: parent.id, parentAuthorId: parent.author_id } : {}),
            preview: preview(input.body),
          },
          actorId: viewer.userId,
        });
        await appendMentions(tx, notify, { authorId: viewer.userId, postId, commentId: row.id });
      });
      return commentView(row, viewer);
    },

    async listComments(viewer: Viewer, postId: string, query: CommentQuery): Promise<Page<CommentView>> {
      const post = await visiblePost(postId, viewer);
      if (query.parentId !== undefined) {
        const parent = await repo.findComment(query.parentId);
        if (!parent || parent.post_id !== postId) throw commentNotFound();
      }
      const limit = query.limit ?? 20;
      const after = decodeKey(cursors, query.cursor, ['string', 'string']) as [string, string] | undefined;
      const includeModerated = isModerator(viewer) || (await isCourseStaff(post, viewer));
      const rows = await repo.listComments(postId, query.parentId ?? null, limit + 1, after, { includeModerated, blockerId: viewer.userId });
      const page = toPage(rows, limit, cursors, (r) => [r.created_at, r.id]);
      return { items: await commentViews(page.items, viewer), nextCursor: page.nextCursor };
    },

    async getComment(viewer: Viewer, id: string): Promise<CommentView> {
      return commentView((await visibleComment(id, viewer)).comment, viewer);
    },

    async updateComment(viewer: Viewer, id: string, expected: number | undefined, patch: CommentPatch): Promise<CommentView> {
      const { comment, post } = await visibleComment(id, viewer);
      if (comment.author_id !== viewer.userId) throw notAuthor('comment');
      checkVersion(comment.version, expected ?? patch.version);
      const body = patch.body ?? comment.body;
      const before = parseIds(comment.mention_ids);
      const mentions = await resolveMentions(body, patch.mentionIds ?? [], viewer.userId, patch.mentionIds ? [] : before.filter((m) => !mentionTokens(comment.body).includes(m)));
      const added = await audienceAmong(post, mentions.filter((m) => !before.includes(m)));
      const changes: Partial<CommentRow> = { body, mention_ids: JSON.stringify(mentions), updated_at: clock.now().toISOString() };
      const updated = await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        if (!(await r.updateComment(id, comment.version, changes))) {
          const current = await r.findComment(id);
          if (!current) throw commentNotFound();
          throw versionMismatch(current.version);
        }
        await events.append<CommentUpdatedPayload>(tx, {
          type: CommunityEvents.commentUpdated,
          scopes: [`user:${post.author_id}`, ...(comment.author_id !== post.author_id ? [`user:${comment.author_id}`] : [])],
          payload: { postId: post.id, commentId: id, authorId: comment.author_id, version: comment.version + 1 },
          actorId: viewer.userId,
        });
        await appendMentions(tx, added, { authorId: viewer.userId, postId: post.id, commentId: id });
        return (await r.findComment(id))!;
      });
      return commentView(updated, viewer);
    },

    /** The comment's author, the post's author or a moderator may delete it; its replies go with it. */
    async deleteComment(viewer: Viewer, id: string, expected: number | undefined): Promise<void> {
      const { comment, post } = await visibleComment(id, viewer);
      if (comment.author_id !== viewer.userId && post.author_id !== viewer.userId && !isModerator(viewer)) throw notAuthor('comment');
      checkVersion(comment.version, expected);
      await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        // Post first, then comments: the order comment writers lock them in.
        await lockPost(r, post.id);
        const current = await r.findComment(id);
        if (!current) throw commentNotFound();
        checkVersion(current.version, expected);
        const removed = await r.deleteCommentTree(id);
        await r.countOnPost(post.id, { comment_count: -removed }, recencyOf(post.created_at));
        if (current.parent_id) await r.bumpComment(current.parent_id, { reply_count: -1 });
        await events.append<CommentDeletedPayload>(tx, {
          type: CommunityEvents.commentDeleted,
          scopes: [...new Set([`user:${post.author_id}`, `user:${comment.author_id}`])],
          payload: { postId: post.id, commentId: id, authorId: comment.author_id, deletedBy: viewer.userId, removed },
          actorId: viewer.userId,
        });
      });
    },

    // ── reactions ────────────────────────────────────────────────────────
    /** One reaction per user, target and kind: reacting again is a no-op that answers the existing one. */
    async react(viewer: Viewer, targetType: 'post' | 'comment', targetId: string, kind: ReactionKind): Promise<{ created: boolean; reaction: ReactionView }> {
      const target = await resolveTarget(targetType, targetId, viewer);
      const createdAt = clock.now().toISOString();
      const created = await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        if (!(await lockPost(r, target.post.id))) throw targetType === 'post' ? postNotFound() : commentNotFound();
        if (targetType === 'comment' && !(await r.findComment(targetId))) throw commentNotFound();
        const inserted = await r.insertReaction({ target_type: targetType, target_id: targetId, user_id: viewer.userId, kind, post_id: target.post.id, created_at: createdAt });
        if (!inserted) return false;
        await countReaction(r, target, kind, 1);
        await events.append<ReactionPayload>(tx, {
          type: CommunityEvents.reactionCreated,
          scopes: [`user:${target.row.author_id}`],
          payload: { targetType, targetId, postId: target.post.id, authorId: target.row.author_id, userId: viewer.userId, kind },
          actorId: viewer.userId,
        });
        return true;
      });
      const stored = await repo.findReaction(targetType, targetId, viewer.userId, kind);
      const names = await users.lookup([viewer.userId]);
      return {
        created,
        reaction: { targetType, targetId, userId: viewer.userId, userName: names.get(viewer.userId)?.displayName ?? null, kind, createdAt: stored?.created_at ?? createdAt },
      };
    },

    /** Removes the caller's reaction of `kind`; removing one that is not there is a no-op. */
    async unreact(viewer: Viewer, targetType: 'post' | 'comment', targetId: string, kind: ReactionKind): Promise<void> {
      const target = await resolveTarget(targetType, targetId, viewer);
      await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        await lockPost(r, target.post.id);
        if (!(await r.deleteReaction(targetType, targetId, viewer.userId, kind))) return;
        await countReaction(r, target, kind, -1);
        await events.append<ReactionPayload>(tx, {
          type: CommunityEvents.reactionDeleted,
          scopes: [`user:${target.row.author_id}`],
          payload: { targetType, targetId, postId: target.post.id, authorId: target.row.author_id, userId: viewer.userId, kind },
          actorId: viewer.userId,
        });
      });
    },

    async listReactions(viewer: Viewer, targetType: 'post' | 'comment', targetId: string, query: ReactionQuery): Promise<Page<ReactionView>> {
      await resolveTarget(targetType, targetId, viewer);
      const limit = query.limit ?? 20;
      const after = decodeKey(cursors, query.cursor, ['string', 'string']) as [string, string] | undefined;
      const rows = await repo.listReactions(targetType, targetId, query.kind, limit + 1, after);
      const page = toPage(rows, limit, cursors, (r) => [r.created_at, r.tiebreak]);
      const names = await users.lookup(page.items.map((r) => r.user_id));
      return {
        items: page.items.map((r) => ({ targetType, targetId, userId: r.user_id, userName: names.get(r.user_id)?.displayName ?? null, kind: r.kind, createdAt: r.created_at })),
        nextCursor: page.nextCursor,
      };
    },

    // ── moderation ───────────────────────────────────────────────────────
    /** One report per user and target: reporting again answers the first report. */
    async report(viewer: Viewer, targetType: 'post' | 'comment', targetId: string, input: ReportCreate): Promise<{ created: boolean; report: ReportView }> {
      const target = await resolveTarget(targetType, targetId, viewer);
      const row: ReportRow = {
        id: newId('rpt'),
        target_type: targetType,
        target_id: targetId,
        post_id: target.post.id,
        course_id: target.post.visibility === 'course' ? target.post.course_id : null,
        reporter_id: viewer.userId,
        reason: input.reason,
        note: input.note ?? null,
        status: 'open',
        resolution: null,
        resolved_by: null,
        resolved_at: null,
        version: 1,
        created_at: clock.now().toISOString(),
      };
      const created = await withTransaction(db, async (tx) => {
        if (!(await communityRepo(tx).insertReport(row))) return false;
        await events.append<ReportPayload>(tx, {
          type: CommunityEvents.reportCreated,
          // Moderators (system) and, for course posts, the course staff through their queue; never the course's members.
          scopes: ['system', `user:${viewer.userId}`],
          payload: { reportId: row.id, targetType, targetId, postId: row.post_id, ...(row.course_id ? { courseId: row.course_id } : {}), reporterId: viewer.userId, reason: row.reason, status: 'open' },
          actorId: viewer.userId,
        });
        return true;
      });
      const stored = created ? row : ((await repo.findReportBy(targetType, targetId, viewer.userId)) ?? row);
      return { created, report: (await reportViews([stored]))[0]! };
    },

    /** The queue: every report for moderators; for course staff, the reports on their courses' posts; nothing for others. */
    async listReports(viewer: Viewer, query: ReportQuery): Promise<Page<ReportView>> {
      const status = query.status ?? 'open';
      let scope: string[] | 'all' = 'all';
      if (!isModerator(viewer)) {
        const candidates = await repo.reportCourseIds(status);
        const roles = courses ? await Promise.all(candidates.map((id) => courses.roleIn(id, viewer.userId))) : [];
        scope = candidates.filter((_, i) => roles[i] === 'staff');
      }
      const limit = query.limit ?? 20;
      const after = decodeKey(cursors, query.cursor, ['string', 'string']) as [string, string] | undefined;
      const rows = await repo.listReports(status, scope, limit + 1, after);
      const page = toPage(rows, limit, cursors, (r) => [r.created_at, r.id]);
      return { items: await reportViews(page.items), nextCursor: page.nextCursor };
    },

    /** Dismisses a report (nothing to do) or puts it back in the queue; moderators, and the staff of the post's course. */
    async updateReport(viewer: Viewer, id: string, expected: number | undefined, patch: ReportPatch): Promise<ReportView> {
      const report = await repo.findReport(id);
      if (!report || !(await mayModerateReport(report, viewer))) throw reportNotFound();
      checkVersion(report.version, expected ?? patch.version);
      const changes: Partial<ReportRow> =
        patch.status === 'dismissed'
          ? { status: 'dismissed', resolution: null, resolved_by: viewer.userId, resolved_at: clock.now().toISOString() }
          : { status: 'open', resolution: null, resolved_by: null, resolved_at: null };
      const updated = await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        if (!(await r.updateReport(id, report.version, changes))) {
          const current = await r.findReport(id);
          if (!current) throw reportNotFound();
          throw versionMismatch(current.version);
        }
        await events.append<ReportPayload>(tx, {
          type: CommunityEvents.reportUpdated,
          scopes: ['system', `user:${report.reporter_id}`],
          payload: { reportId: id, targetType: report.target_type, targetId: report.target_id, postId: report.post_id, ...(report.course_id ? { courseId: report.course_id } : {}), reporterId: report.reporter_id, reason: report.reason, status: patch.status },
          actorId: viewer.userId,
        });
        return (await r.findReport(id))!;
      });
      return (await reportViews([updated]))[0]!;
    },

    /**
     * Hides, removes or restores a post or comment, with a reason its author is told; closes the open
     * reports on it. Moderators, and the staff of the post's course.
     */
    async moderate(viewer: Viewer, targetType: 'post' | 'comment', targetId: string, input: ModerationBody): Promise<PostView | CommentView> {
      const comment = targetType === 'comment' ? await repo.findComment(targetId) : undefined;
      const post = await repo.findPost(comment ? comment.post_id : targetId);
      const notFound = targetType === 'post' ? postNotFound : commentNotFound;
      if (!post || (targetType === 'comment' && !comment)) throw notFound();
      if (!isModerator(viewer) && !(await isCourseStaff(post, viewer))) {
        const sees = targetType === 'post' ? await canSee(post, viewer) : (await canSee(post, viewer)) && (await canSeeModerated(comment!, post, viewer));
        if (!sees) throw notFound();
        throw new AppError(403, CommunityErrors.FORBIDDEN, 'Only moderators and the course staff moderate.');
      }
      if (input.status !== 'visible' && !input.reason) throw invalid(CommunityErrors.COMMUNITY_REASON_REQUIRED, '/body/reason', 'Say why: the author is told.');
      const now = clock.now().toISOString();
      const authorId = comment ? comment.author_id : post.author_id;
      const fields =
        input.status === 'visible'
          ? { moderation: 'visible' as const, moderation_reason: null, moderated_by: viewer.userId, moderated_at: now }
          : { moderation: input.status, moderation_reason: input.reason!, moderated_by: viewer.userId, moderated_at: now };
      await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        if (!(comment ? await r.findComment(targetId) : await r.findPost(targetId))) throw notFound();
        await r.setModeration(targetType === 'post' ? 'community_post' : 'community_comment', targetId, fields);
        const resolved = input.status === 'visible' ? [] : await r.resolveReports(targetType, targetId, input.status, viewer.userId, now);
        await events.append<ModeratedPayload>(tx, {
          type: targetType === 'post' ? CommunityEvents.postModerated : CommunityEvents.commentModerated,
          scopes: ['system', `user:${authorId}`],
          payload: { targetType, targetId, postId: post.id, authorId, status: input.status, reason: fields.moderation_reason, byId: viewer.userId, resolvedReportIds: resolved },
          actorId: viewer.userId,
        });
      });
      if (targetType === 'post') return postView((await repo.findPost(targetId))!, viewer);
      return commentView((await repo.findComment(targetId))!, viewer);
    },

    // ── blocks ───────────────────────────────────────────────────────────
    /** Blocking hides the user's posts and comments from the blocker's feeds and lists, and ends follows both ways. */
    async block(viewer: Viewer, userId: string): Promise<{ userId: string; blocked: boolean }> {
      if (userId === viewer.userId) throw invalid(CommunityErrors.COMMUNITY_CANNOT_BLOCK_SELF, '/params/id', 'You cannot block yourself.');
      if (!(await users.lookup([userId])).has(userId)) throw userNotFound();
      await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        if (!(await r.insertBlock(viewer.userId, userId, clock.now().toISOString()))) return;
        for (const [follower, followee] of [[viewer.userId, userId], [userId, viewer.userId]] as const) {
          if (!(await r.deleteFollow(follower, followee))) continue;
          await r.bumpStats(followee, 'follower_count', -1);
          await r.bumpStats(follower, 'following_count', -1);
        }
        await events.append<BlockPayload>(tx, { type: CommunityEvents.blockCreated, scopes: [`user:${viewer.userId}`], payload: { blockerId: viewer.userId, blockedId: userId }, actorId: viewer.userId });
      });
      return { userId, blocked: true };
    },

    async unblock(viewer: Viewer, userId: string): Promise<void> {
      await withTransaction(db, async (tx) => {
        if (!(await communityRepo(tx).deleteBlock(viewer.userId, userId))) return;
        await events.append<BlockPayload>(tx, { type: CommunityEvents.blockDeleted, scopes: [`user:${viewer.userId}`], payload: { blockerId: viewer.userId, blockedId: userId }, actorId: viewer.userId });
      });
    },

    async listBlocks(viewer: Viewer, query: { limit?: number; cursor?: string }): Promise<Page<FollowEntryView>> {
      const limit = query.limit ?? 20;
      const after = decodeKey(cursors, query.cursor, ['string', 'string']) as [string, string] | undefined;
      const rows = await repo.listBlocks(viewer.userId, limit + 1, after);
      const page = toPage(rows, limit, cursors, (r) => [r.created_at, r.user_id]);
      const names = await users.lookup(page.items.map((r) => r.user_id));
      return { items: page.items.map((r) => ({ userId: r.user_id, displayName: names.get(r.user_id)?.displayName ?? null, since: r.created_at })), nextCursor: page.nextCursor };
    },

    // ── follows ──────────────────────────────────────────────────────────
    async followState(viewer: Viewer, userId: string): Promise<FollowStateView> {
      if (userId !== viewer.userId && !(await users.lookup([userId])).has(userId)) throw userNotFound();
      const [stats, following, followedBy] = await Promise.all([repo.stats(userId), repo.isFollowing(viewer.userId, userId), repo.isFollowing(userId, viewer.userId)]);
      return { userId, following, followedBy, followerCount: stats?.follower_count ?? 0, followingCount: stats?.following_count ?? 0 };
    },

    async follow(viewer: Viewer, userId: string): Promise<FollowStateView> {
      if (userId === viewer.userId) throw invalid(CommunityErrors.COMMUNITY_CANNOT_FOLLOW_SELF, '/params/id', 'You cannot follow yourself.');
      if (!(await users.lookup([userId])).has(userId)) throw userNotFound();
      // Someone who blocked you is not there for you to follow; someone you blocked, unblock first.
      if (await repo.isBlocked(userId, viewer.userId)) throw userNotFound();
      if (await repo.isBlocked(viewer.userId, userId)) throw invalid(CommunityErrors.COMMUNITY_USER_BLOCKED, '/params/id', 'You block this user; unblock them first.');
      await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        if (!(await r.insertFollow(viewer.userId, userId, clock.now().toISOString()))) return;
        await r.bumpStats(userId, 'follower_count', 1);
        await r.bumpStats(viewer.userId, 'following_count', 1);
        await events.append<FollowPayload>(tx, { type: CommunityEvents.followCreated, scopes: [`user:${userId}`], payload: { followerId: viewer.userId, followeeId: userId }, actorId: viewer.userId });
      });
      return this.followState(viewer, userId);
    },

    /** Stops following; not following already is a no-op (the account may even be gone). */
    async unfollow(viewer: Viewer, userId: string): Promise<void> {
      await withTransaction(db, async (tx) => {
        const r = communityRepo(tx);
        if (!(await r.deleteFollow(viewer.userId, userId))) return;
        await r.bumpStats(userId, 'follower_count', -1);
        await r.bumpStats(viewer.userId, 'following_count', -1);
        await events.append<FollowPayload>(tx, { type: CommunityEvents.followDeleted, scopes: [`user:${userId}`], payload: { followerId: viewer.userId, followeeId: userId }, actorId: viewer.userId });
      });
    },

    async listFollows(viewer: Viewer, userId: string, side: 'followers' | 'following', query: { limit?: number; cursor?: string }): Promise<Page<FollowEntryView>> {
      if (userId !== viewer.userId && !(await users.lookup([userId])).has(userId)) throw userNotFound();
      const limit = query.limit ?? 20;
      const after = decodeKey(cursors, query.cursor, ['string', 'string']) as [string, string] | undefined;
      const rows = await repo.listFollows(userId, side, limit + 1, after);
      const page = toPage(rows, limit, cursors, (r) => [r.created_at, r.user_id]);
      const names = await users.lookup(page.items.map((r) => r.user_id));
      return { items: page.items.map((r) => ({ userId: r.user_id, displayName: names.get(r.user_id)?.displayName ?? null, since: r.created_at })), nextCursor: page.nextCursor };
    },
  };
}

export type CommunityService = ReturnType<typeof createCommunityService>;

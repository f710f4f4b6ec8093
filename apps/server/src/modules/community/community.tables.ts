/** Row types of the community module's tables (snake_case, as stored). Times are RFC 3339 UTC text. */

export const REACTION_KINDS = ['like', 'love', 'insightful', 'celebrate'] as const;
export type ReactionKind = (typeof REACTION_KINDS)[number];

export const VISIBILITIES = ['public', 'followers', 'course'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export const MODERATION_STATUSES = ['visible', 'hidden', 'removed'] as const;
export type ModerationStatus = (typeof MODERATION_STATUSES)[number];

export const REPORT_REASONS = ['spam', 'harassment', 'hate', 'misinformation', 'inappropriate', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

/** Moderation fields on posts and comments. */
export interface Moderated {
  moderation: ModerationStatus;
  moderation_reason: string | null;
  moderated_by: string | null;
  moderated_at: string | null;
}

/** Per-kind reaction counters, kept beside the total so a list shows them without a GROUP BY. */
export interface ReactionCounters {
  reaction_count: number;
  like_count: number;
  love_count: number;
  insightful_count: number;
  celebrate_count: number;
}

export interface PostRow extends ReactionCounters, Moderated {
  id: string;
  author_id: string;
  body: string;
  /** JSON array of attachment ids (files come later; the field is kept). */
  attachment_ids: string;
  visibility: Visibility;
  course_id: string | null;
  /** JSON array of the user ids mentioned. */
  mention_ids: string;
  comment_count: number;
  /** The "top" ranking key, recomputed in the transaction that changes a counter (see docs/community.md). */
  hot_score: number;
  pinned_at: string | null;
  /** Set when the author's account was deleted and the post kept as a "[deleted]" tombstone. */
  erased_at: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface CommentRow extends ReactionCounters, Moderated {
  id: string;
  post_id: string;
  /** The top-level comment this one answers; null for a top-level comment (two levels only). */
  parent_id: string | null;
  author_id: string;
  body: string;
  mention_ids: string;
  reply_count: number;
  /** Set when the author's account was deleted and the comment kept as a "[deleted]" tombstone (it has replies). */
  erased_at: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface ReactionRow {
  target_type: 'post' | 'comment';
  target_id: string;
  user_id: string;
  kind: ReactionKind;
  post_id: string;
  created_at: string;
}

export interface FollowRow {
  follower_id: string;
  followee_id: string;
  created_at: string;
}

export interface UserStatsRow {
  user_id: string;
  follower_count: number;
  following_count: number;
}

export interface ReportRow {
  id: string;
  target_type: 'post' | 'comment';
  target_id: string;
  post_id: string;
  /** The course of the post, so that its staff see the report in their queue. */
  course_id: string | null;
  reporter_id: string;
  reason: ReportReason;
  note: string | null;
  status: 'open' | 'resolved' | 'dismissed';
  /** What was done: the moderation status set on the target, or null when dismissed or open. */
  resolution: ModerationStatus | null;
  resolved_by: string | null;
  resolved_at: string | null;
  version: number;
  created_at: string;
}

export interface BlockRow {
  blocker_id: string;
  blocked_id: string;
  created_at: string;
}

export interface CommunityTables {
  community_report: ReportRow;
  community_block: BlockRow;
  community_post: PostRow;
  community_comment: CommentRow;
  community_reaction: ReactionRow;
  community_follow: FollowRow;
  community_user_stats: UserStatsRow;
}

import type { ModerationStatus, ReactionKind, ReportReason, Visibility } from './community.tables.js';

/**
 * The events the community module appends to the log. The notifications module subscribes to the
 * `*.created` ones by name: their names and payloads are a contract.
 */
export const CommunityEvents = {
  postCreated: 'community.post.created',
  postUpdated: 'community.post.updated',
  postDeleted: 'community.post.deleted',
  commentCreated: 'community.comment.created',
  commentUpdated: 'community.comment.updated',
  commentDeleted: 'community.comment.deleted',
  mentionCreated: 'community.mention.created',
  reactionCreated: 'community.reaction.created',
  reactionDeleted: 'community.reaction.deleted',
  followCreated: 'community.follow.created',
  followDeleted: 'community.follow.deleted',
  postModerated: 'community.post.moderated',
  commentModerated: 'community.comment.moderated',
  reportCreated: 'community.report.created',
  reportUpdated: 'community.report.updated',
  blockCreated: 'community.block.created',
  blockDeleted: 'community.block.deleted',
  postPinned: 'community.post.pinned',
  postUnpinned: 'community.post.unpinned',
  userErased: 'community.user.erased',
} as const;

export interface PostCreatedPayload {
  postId: string;
  authorId: string;
  visibility: Visibility;
  courseId?: string;
}

export interface PostUpdatedPayload {
  postId: string;
  authorId: string;
  version: number;
  fields: string[];
}

export interface PostDeletedPayload {
  postId: string;
  authorId: string;
  /** Who deleted it: the author, or a moderator. */
  deletedBy: string;
}

export interface CommentCreatedPayload {
  postId: string;
  commentId: string;
  authorId: string;
  postAuthorId: string;
  parentCommentId?: string;
  parentAuthorId?: string;
  /** The first 140 characters of the comment. */
  preview: string;
}

export interface CommentUpdatedPayload {
  postId: string;
  commentId: string;
  authorId: string;
  version: number;
}

export interface CommentDeletedPayload {
  postId: string;
  commentId: string;
  authorId: string;
  deletedBy: string;
  /** How many comments went with it (the comment and its replies). */
  removed: number;
}

export interface MentionCreatedPayload {
  /** The user mentioned. */
  userId: string;
  authorId: string;
  postId: string;
  commentId?: string;
}

export interface ReactionPayload {
  targetType: 'post' | 'comment';
  targetId: string;
  postId: string;
  /** The author of what was reacted to. */
  authorId: string;
  /** Who reacted. */
  userId: string;
  kind: ReactionKind;
}

export interface FollowPayload {
  followerId: string;
  followeeId: string;
}

export interface PostPinPayload {
  postId: string;
  courseId: string;
  /** The staff member or moderator who pinned or unpinned it. */
  byId: string;
}

/** A post or comment hidden, removed or made visible again; its author is told why. */
export interface ModeratedPayload {
  targetType: 'post' | 'comment';
  targetId: string;
  postId: string;
  authorId: string;
  status: ModerationStatus;
  reason: string | null;
  byId: string;
  /** Open reports this closed. */
  resolvedReportIds: string[];
}

export interface ReportPayload {
  reportId: string;
  targetType: 'post' | 'comment';
  targetId: string;
  postId: string;
  courseId?: string;
  reporterId: string;
  reason: ReportReason;
  status: 'open' | 'resolved' | 'dismissed';
}

/** Private to the blocker (scope `user:<blockerId>`), for their other devices. */
export interface BlockPayload {
  blockerId: string;
  blockedId: string;
}

/** A deleted account's community data was erased (scope `system`): what this run of the erasure did. */
export interface UserErasedPayload {
  userId: string;
  postsRemoved: number;
  postsTombstoned: number;
  commentsRemoved: number;
  commentsTombstoned: number;
  reactionsRemoved: number;
  followsRemoved: number;
  blocksRemoved: number;
  reportsRemoved: number;
  mentionsCleared: number;
}

import { Type, type Static } from '@sinclair/typebox';
import { Page, PageQuery } from '../../core/http/pagination.js';
import { MODERATION_STATUSES, REACTION_KINDS, REPORT_REASONS, VISIBILITIES } from './community.tables.js';

export const BODY_MAX_LENGTH = 10_000;
export const COMMENT_MAX_LENGTH = 4_000;

/** A Lyceum id: a lower-case prefix, `_`, then the rest (`usr_01jd…`, `pst_01jf…`). */
const Id = Type.String({ minLength: 3, maxLength: 64, pattern: '^[a-z]{2,8}_[A-Za-z0-9_-]+$' });
const DateTime = Type.String({ format: 'date-time' });
const Text = (max: number, description: string) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S', description });
const Version = Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'The version being changed (instead of If-Match); 412 when it is not the current one.' });
export const ReactionKindSchema = Type.Union(REACTION_KINDS.map((k) => Type.Literal(k)), { description: 'One of like, love, insightful, celebrate.' });
export const VisibilitySchema = Type.Union(VISIBILITIES.map((v) => Type.Literal(v)), {
  description: '`public`: every signed-in user. `followers`: the author’s followers. `course`: the members and staff of `courseId`.',
});
const AttachmentIds = Type.Array(Id, { maxItems: 10, uniqueItems: true, description: 'Ids of uploaded files (stored as given; the files module will check them).' });
const MentionIds = Type.Array(Id, {
  maxItems: 20,
  uniqueItems: true,
  description: 'User ids to mention. `@usr_…` tokens in the text mention too. Unknown ids are refused (422 COMMUNITY_MENTION_UNKNOWN).',
});

export const ModerationStatusSchema = Type.Union(MODERATION_STATUSES.map((m) => Type.Literal(m)), {
  description: '`visible`; `hidden` (only its author, moderators and the course staff see it); `removed` (only moderators and the course staff).',
});
const ModerationFields = {
  moderation: ModerationStatusSchema,
  moderationReason: Type.Union([Type.String(), Type.Null()], { description: 'Why it was hidden or removed.' }),
};

export const IdParams = Type.Object({ id: Id });
export const KindParams = Type.Object({ id: Id, kind: ReactionKindSchema });

export const PostCreate = Type.Object(
  {
    body: Text(BODY_MAX_LENGTH, 'Markdown, at most 10,000 characters.'),
    attachmentIds: Type.Optional(AttachmentIds),
    visibility: Type.Optional(VisibilitySchema),
    courseId: Type.Optional(Id),
    mentionIds: Type.Optional(MentionIds),
  },
  { additionalProperties: false },
);
export type PostCreate = Static<typeof PostCreate>;

export const PostPatch = Type.Object(
  {
    body: Type.Optional(Text(BODY_MAX_LENGTH, 'Markdown, at most 10,000 characters.')),
    attachmentIds: Type.Optional(AttachmentIds),
    visibility: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('followers')], { description: 'A course post stays in its course.' })),
    mentionIds: Type.Optional(MentionIds),
    version: Type.Optional(Version),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PostPatch = Static<typeof PostPatch>;

const ReactionCounts = Type.Object(
  { like: Type.Integer(), love: Type.Integer(), insightful: Type.Integer(), celebrate: Type.Integer() },
  { additionalProperties: false },
);

export const Post = Type.Object(
  {
    id: Type.String(),
    authorId: Type.String(),
    authorName: Type.Union([Type.String(), Type.Null()], { description: 'Null when the account no longer exists.' }),
    body: Type.String(),
    attachmentIds: Type.Array(Type.String()),
    visibility: VisibilitySchema,
    courseId: Type.Union([Type.String(), Type.Null()]),
    mentionIds: Type.Array(Type.String()),
    commentCount: Type.Integer(),
    reactionCount: Type.Integer(),
    reactions: ReactionCounts,
    myReactions: Type.Array(ReactionKindSchema, { description: 'The kinds the caller has reacted with.' }),
    pinned: Type.Boolean(),
    ...ModerationFields,
    version: Type.Integer(),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'CommunityPost', title: 'CommunityPost', additionalProperties: false },
);
export type PostView = Static<typeof Post>;

export const CommentCreate = Type.Object(
  {
    body: Text(COMMENT_MAX_LENGTH, 'Markdown, at most 4,000 characters.'),
    parentId: Type.Optional(Type.String({ minLength: 3, maxLength: 64, pattern: '^[a-z]{2,8}_[A-Za-z0-9_-]+$', description: 'A top-level comment of the same post, to reply to it (two levels: replies cannot be answered).' })),
    mentionIds: Type.Optional(MentionIds),
  },
  { additionalProperties: false },
);
export type CommentCreate = Static<typeof CommentCreate>;

export const CommentPatch = Type.Object(
  { body: Type.Optional(Text(COMMENT_MAX_LENGTH, 'Markdown, at most 4,000 characters.')), mentionIds: Type.Optional(MentionIds), version: Type.Optional(Version) },
  { additionalProperties: false, minProperties: 1 },
);
export type CommentPatch = Static<typeof CommentPatch>;

export const CommentQuery = Type.Object(
  {
    ...PageQuery.properties,
    parentId: Type.Optional(Type.String({ minLength: 3, maxLength: 64, pattern: '^[a-z]{2,8}_[A-Za-z0-9_-]+$', description: 'List the replies to this comment instead of the top-level comments.' })),
  },
  { additionalProperties: false },
);
export type CommentQuery = Static<typeof CommentQuery>;

export const Comment = Type.Object(
  {
    id: Type.String(),
    postId: Type.String(),
    parentId: Type.Union([Type.String(), Type.Null()]),
    authorId: Type.String(),
    authorName: Type.Union([Type.String(), Type.Null()]),
    body: Type.String(),
    mentionIds: Type.Array(Type.String()),
    replyCount: Type.Integer(),
    reactionCount: Type.Integer(),
    reactions: ReactionCounts,
    myReactions: Type.Array(ReactionKindSchema),
    ...ModerationFields,
    version: Type.Integer(),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'CommunityComment', title: 'CommunityComment', additionalProperties: false },
);
export type CommentView = Static<typeof Comment>;

export const ReactionCreate = Type.Object({ kind: ReactionKindSchema }, { additionalProperties: false });

export const Reaction = Type.Object(
  {
    targetType: Type.Union([Type.Literal('post'), Type.Literal('comment')]),
    targetId: Type.String(),
    userId: Type.String(),
    userName: Type.Union([Type.String(), Type.Null()]),
    kind: ReactionKindSchema,
    createdAt: DateTime,
  },
  { $id: 'CommunityReaction', title: 'CommunityReaction', additionalProperties: false },
);
export type ReactionView = Static<typeof Reaction>;

export const ReactionQuery = Type.Object({ ...PageQuery.properties, kind: Type.Optional(ReactionKindSchema) }, { additionalProperties: false });
export type ReactionQuery = Static<typeof ReactionQuery>;

export const FollowState = Type.Object(
  {
    userId: Type.String(),
    following: Type.Boolean({ description: 'Whether the caller follows this user.' }),
    followedBy: Type.Boolean({ description: 'Whether this user follows the caller.' }),
    followerCount: Type.Integer(),
    followingCount: Type.Integer(),
  },
  { $id: 'CommunityFollowState', title: 'CommunityFollowState', additionalProperties: false },
);
export type FollowStateView = Static<typeof FollowState>;

export const FollowEntry = Type.Object(
  { userId: Type.String(), displayName: Type.Union([Type.String(), Type.Null()]), since: DateTime },
  { $id: 'CommunityFollowEntry', title: 'CommunityFollowEntry', additionalProperties: false },
);
export type FollowEntryView = Static<typeof FollowEntry>;

export const PostListQuery = Type.Object(
  {
    ...PageQuery.properties,
    sort: Type.Optional(Type.Union([Type.Literal('recent'), Type.Literal('top')], { default: 'recent', description: '`recent`: newest first. `top`: by the ranking in docs/community.md (engagement weighed against age).' })),
  },
  { additionalProperties: false },
);
export type PostListQuery = Static<typeof PostListQuery>;

export const CourseFeed = Type.Object(
  {
    ...Page(Type.Ref(Post)).properties,
    pinned: Type.Array(Type.Ref(Post), { description: 'Posts pinned by the course staff, newest pin first; on the first page only (empty with a cursor). They are not repeated in `items`.' }),
  },
  { additionalProperties: false },
);

export const ModerationBody = Type.Object(
  {
    status: ModerationStatusSchema,
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, pattern: '\\S', description: 'Required to hide or remove; shown to the author.' })),
  },
  { additionalProperties: false },
);
export type ModerationBody = Static<typeof ModerationBody>;

const ReportReasonSchema = Type.Union(REPORT_REASONS.map((r) => Type.Literal(r)), { description: 'spam, harassment, hate, misinformation, inappropriate or other.' });
export const ReportCreate = Type.Object(
  { reason: ReportReasonSchema, note: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'What the moderators should know.' })) },
  { additionalProperties: false },
);
export type ReportCreate = Static<typeof ReportCreate>;

const ReportStatus = Type.Union([Type.Literal('open'), Type.Literal('resolved'), Type.Literal('dismissed')]);
export const Report = Type.Object(
  {
    id: Type.String(),
    targetType: Type.Union([Type.Literal('post'), Type.Literal('comment')]),
    targetId: Type.String(),
    postId: Type.String(),
    courseId: Type.Union([Type.String(), Type.Null()]),
    reporterId: Type.String(),
    reason: ReportReasonSchema,
    note: Type.Union([Type.String(), Type.Null()]),
    status: ReportStatus,
    resolution: Type.Union([ModerationStatusSchema, Type.Null()], { description: 'The moderation status set on the target when it was resolved.' }),
    resolvedBy: Type.Union([Type.String(), Type.Null()]),
    resolvedAt: Type.Union([DateTime, Type.Null()]),
    preview: Type.Union([Type.String(), Type.Null()], { description: 'The first 140 characters of what was reported; null when it was deleted.' }),
    version: Type.Integer(),
    createdAt: DateTime,
  },
  { $id: 'CommunityReport', title: 'CommunityReport', additionalProperties: false },
);
export type ReportView = Static<typeof Report>;

export const ReportQuery = Type.Object(
  { ...PageQuery.properties, status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved'), Type.Literal('dismissed')], { default: 'open' })) },
  { additionalProperties: false },
);
export type ReportQuery = Static<typeof ReportQuery>;

export const ReportPatch = Type.Object(
  { status: Type.Union([Type.Literal('dismissed'), Type.Literal('open')], { description: '`dismissed`: nothing to do; `open`: back in the queue.' }), version: Type.Optional(Version) },
  { additionalProperties: false },
);
export type ReportPatch = Static<typeof ReportPatch>;

export const BlockState = Type.Object(
  { userId: Type.String(), blocked: Type.Boolean() },
  { $id: 'CommunityBlockState', title: 'CommunityBlockState', additionalProperties: false },
);

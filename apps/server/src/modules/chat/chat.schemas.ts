import { Type, type Static } from '@sinclair/typebox';
import { PageQuery } from '../../core/http/pagination.js';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);
export const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const Id = (description?: string) => Type.String({ minLength: 1, maxLength: 64, pattern: ID_PATTERN, ...(description ? { description } : {}) });
const UserId = Id('A user id (`usr_…`).');
const Title = Type.String({ minLength: 1, maxLength: 120, pattern: '\\S', description: 'Shown as the name of a group.' });
export const ConversationKind = Type.Union([Type.Literal('direct'), Type.Literal('group'), Type.Literal('course')]);
export const MemberRole = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')]);
export const MESSAGE_MAX_LENGTH = 8000;
const Body = Type.String({ minLength: 1, maxLength: MESSAGE_MAX_LENGTH, pattern: '\\S', description: 'Markdown text.' });
const Emoji = Type.String({ minLength: 1, maxLength: 32, pattern: '^[^\\s/?#%]+$', description: 'An emoji or a short code such as `:thumbsup:`.' });

// ── params ────────────────────────────────────────────────────────────────
export const ConversationParams = Type.Object({ id: Id('Conversation id (`cnv_…`).') }, { additionalProperties: false });
export const MemberParams = Type.Object({ id: Id('Conversation id.'), userId: UserId }, { additionalProperties: false });
export const MessageParams = Type.Object({ id: Id('Conversation id.'), messageId: Id('Message id (`msg_…`).') }, { additionalProperties: false });
export const ReactionParams = Type.Object({ id: Id('Conversation id.'), messageId: Id('Message id.'), emoji: Emoji }, { additionalProperties: false });

// ── conversations ────────────────────────────────────────────────────────
export const CreateDirect = Type.Object(
  { kind: Type.Literal('direct'), userId: UserId },
  { additionalProperties: false, title: 'CreateDirectConversation', description: 'One conversation per pair of users: asking again returns the existing one (200).' },
);
export const CreateGroup = Type.Object(
  {
    kind: Type.Literal('group'),
    title: Title,
    memberIds: Type.Optional(Type.Array(UserId, { maxItems: 200, uniqueItems: true, description: 'Other members; the caller becomes the owner.' })),
  },
  { additionalProperties: false, title: 'CreateGroupConversation' },
);
export const CreateCourse = Type.Object(
  { kind: Type.Literal('course'), courseId: Id('A course id (`crs_…`).') },
  { additionalProperties: false, title: 'OpenCourseChannel', description: "The course's one channel, opened on first use; for its staff and enrolled students." },
);
export const CreateConversation = Type.Union([CreateDirect, CreateGroup, CreateCourse]);
export type CreateConversation = Static<typeof CreateConversation>;

export const ConversationPatch = Type.Object(
  { title: Type.Optional(Title), version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'The version being changed (or send If-Match).' })) },
  { additionalProperties: false, minProperties: 1 },
);

const LastMessage = Type.Object(
  {
    id: Type.String(),
    seq: Type.Integer(),
    senderId: Type.String(),
    preview: Type.Union([Type.String(), Type.Null()], { description: 'First 140 characters; null once deleted.' }),
    createdAt: DateTime,
    deleted: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const Conversation = Type.Object(
  {
    id: Type.String(),
    kind: ConversationKind,
    title: Nullable(Type.String()),
    courseId: Nullable(Type.String()),
    peer: Type.Union([Type.Object({ userId: Type.String(), displayName: Nullable(Type.String()) }, { additionalProperties: false }), Type.Null()], {
      description: 'The other person of a direct conversation.',
    }),
    createdBy: Type.String(),
    memberCount: Type.Integer(),
    lastSeq: Type.Integer({ description: 'Seq of the newest message; messages are numbered 1, 2, 3… in each conversation.' }),
    lastMessage: Type.Union([LastMessage, Type.Null()]),
    me: Type.Object(
      {
        role: MemberRole,
        readSeq: Type.Integer(),
        deliveredSeq: Type.Integer(),
        unreadCount: Type.Integer({ description: '`lastSeq - readSeq`.' }),
        joinedAt: DateTime,
        muted: Type.Boolean({ description: 'I muted the conversation: no notifications for its messages (mentions of me still notify).' }),
        mutedUntil: Type.Union([DateTime, Type.Null()], { description: 'When my mute ends; null when muted indefinitely or not muted.' }),
      },
      { additionalProperties: false },
    ),
    activityAt: DateTime,
    version: Type.Integer(),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'ChatConversation', additionalProperties: false },
);
export type ConversationView = Static<typeof Conversation>;

// ── members ──────────────────────────────────────────────────────────────
export const Member = Type.Object(
  {
    userId: Type.String(),
    displayName: Nullable(Type.String()),
    role: MemberRole,
    readSeq: Type.Integer({ description: 'Read receipt: every message up to this seq has been read.' }),
    deliveredSeq: Type.Integer({ description: 'Every message up to this seq has reached one of the member’s devices.' }),
    joinedAt: DateTime,
  },
  { $id: 'ChatMember', additionalProperties: false },
);
export type MemberView = Static<typeof Member>;
export const AddMember = Type.Object(
  { userId: UserId, role: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('member')], { default: 'member' })) },
  { additionalProperties: false },
);
export const MemberPatch = Type.Object({ role: Type.Union([Type.Literal('admin'), Type.Literal('member')]) }, { additionalProperties: false });

// ── messages ─────────────────────────────────────────────────────────────
export const Reaction = Type.Object({ emoji: Type.String(), count: Type.Integer(), mine: Type.Boolean() }, { additionalProperties: false });
export const Message = Type.Object(
  {
    id: Type.String(),
    conversationId: Type.String(),
    seq: Type.Integer(),
    senderId: Type.String(),
    clientMessageId: Nullable(Type.String()),
    body: Type.Union([Type.String(), Type.Null()], { description: 'Markdown; null once deleted.' }),
    replyToId: Nullable(Type.String()),
    mentions: Type.Array(Type.String()),
    attachments: Type.Array(Type.String()),
    reactions: Type.Array(Reaction),
    editCount: Type.Integer(),
    editedAt: Nullable(DateTime),
    deletedAt: Nullable(DateTime),
    version: Type.Integer(),
    createdAt: DateTime,
  },
  { $id: 'ChatMessage', additionalProperties: false },
);
export type MessageView = Static<typeof Message>;

export const SendMessage = Type.Object(
  {
    body: Body,
    clientMessageId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]+$', description: 'Chosen by the client (a UUID): a resend with the same id returns the message stored the first time.' }),
    ),
    replyToId: Type.Optional(Id('The message this one answers, in the same conversation.')),
    mentions: Type.Optional(Type.Array(UserId, { maxItems: 50, uniqueItems: true, description: 'Members mentioned; each gets a `chat.mention.created` event. Non-members are ignored.' })),
    attachments: Type.Optional(Type.Array(Id('An attachment id (the files module resolves it).'), { maxItems: 10, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type SendMessage = Static<typeof SendMessage>;

export const EditMessage = Type.Object(
  { body: Body, version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'The version being changed (or send If-Match).' })) },
  { additionalProperties: false },
);

export const MessageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50, description: 'Items per page (1–100).' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Opaque `nextCursor` of the previous page.' })),
    before: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'Messages with a smaller seq, newest first (the default order).' })),
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Messages with a greater seq, oldest first (catching up).' })),
  },
  { additionalProperties: false },
);
export type MessageQuery = Static<typeof MessageQuery>;

export const MessageEdit = Type.Object(
  { body: Type.String(), writtenAt: DateTime, replacedAt: DateTime },
  { $id: 'ChatMessageEdit', additionalProperties: false, description: 'An earlier text of a message.' },
);
export type MessageEditView = Static<typeof MessageEdit>;

export const AddReaction = Type.Object({ emoji: Emoji }, { additionalProperties: false });

export const ReportMessage = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000, pattern: '\\S' }) }, { additionalProperties: false });
export const Report = Type.Object(
  { id: Type.String(), messageId: Type.String(), conversationId: Type.String(), reason: Type.String(), createdAt: DateTime },
  { $id: 'ChatReport', additionalProperties: false },
);

// ── read state ───────────────────────────────────────────────────────────
export const MarkRead = Type.Object(
  {
    readSeq: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Everything up to this seq has been read.' })),
    deliveredSeq: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Everything up to this seq has reached a device.' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type MarkRead = Static<typeof MarkRead>;
export const ReadState = Type.Object(
  { conversationId: Type.String(), readSeq: Type.Integer(), deliveredSeq: Type.Integer(), lastSeq: Type.Integer(), unreadCount: Type.Integer() },
  { $id: 'ChatReadState', additionalProperties: false },
);
export type ReadStateView = Static<typeof ReadState>;

// ── muting ───────────────────────────────────────────────────────────────
export const MUTE_DURATIONS = { '1h': 3_600_000, '8h': 28_800_000, '1w': 604_800_000 } as const;
export const MuteInput = Type.Object(
  {
    until: Type.Optional(Type.Union([DateTime, Type.Null()], { description: 'Muted until this time (in the future); null, like sending neither field, mutes indefinitely.' })),
    duration: Type.Optional(Type.Union([Type.Literal('1h'), Type.Literal('8h'), Type.Literal('1w')], { description: 'Muted for this long from now, by the server’s clock. Not with `until`.' })),
  },
  { additionalProperties: false },
);
export type MuteInput = Static<typeof MuteInput>;
export const MuteState = Type.Object(
  {
    conversationId: Type.String(),
    muted: Type.Boolean(),
    mutedUntil: Type.Union([DateTime, Type.Null()], { description: 'When the mute ends; null when muted indefinitely or not muted.' }),
  },
  { $id: 'ChatMuteState', additionalProperties: false },
);
export type MuteStateView = Static<typeof MuteState>;

// ── search ───────────────────────────────────────────────────────────────
export const SearchQuery = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: 200, description: 'Words to find (letters and digits; any other character only separates words); every word must match, case aside.' }),
    conversationId: Type.Optional(Id('Only this conversation (one I am a member of).')),
    ...PageQuery.properties,
  },
  { additionalProperties: false },
);
export type SearchQuery = Static<typeof SearchQuery>;
export const SearchHit = Type.Object(
  {
    conversationId: Type.String(),
    messageId: Type.String(),
    seq: Type.Integer(),
    senderId: Type.String(),
    createdAt: DateTime,
    editedAt: Nullable(DateTime),
    snippet: Type.Object(
      {
        text: Type.String({ description: 'Plain text around the first match (at most 160 UTF-16 code units), with `…` where it was cut. Not HTML: escape it when rendering.' }),
        highlights: Type.Array(Type.Object({ start: Type.Integer({ minimum: 0 }), end: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), {
          description: 'Matched words as [start, end) offsets into `text`, in UTF-16 code units (JavaScript string indices), in order.',
        }),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'ChatSearchHit', additionalProperties: false },
);
export type SearchHitView = Static<typeof SearchHit>;

// ── blocks ───────────────────────────────────────────────────────────────
export const BlockParams = Type.Object({ userId: UserId }, { additionalProperties: false });
export const CreateBlock = Type.Object({ userId: UserId }, { additionalProperties: false });
export const Block = Type.Object({ userId: Type.String(), displayName: Nullable(Type.String()), createdAt: DateTime }, { $id: 'ChatBlock', additionalProperties: false });
export type BlockView = Static<typeof Block>;

// ── socket commands ──────────────────────────────────────────────────────
export const SocketSend = Type.Object({ conversationId: Id('Conversation id.'), ...SendMessage.properties }, { additionalProperties: false });
export type SocketSend = Static<typeof SocketSend>;
export const SocketRead = Type.Object({ conversationId: Id('Conversation id.'), ...MarkRead.properties }, { additionalProperties: false, minProperties: 2 });
export type SocketRead = Static<typeof SocketRead>;

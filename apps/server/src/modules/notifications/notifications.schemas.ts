import { Type, type Static, type TOptional } from '@sinclair/typebox';
import { DIGEST_CADENCES, WEEKDAYS } from './digests.windows.js';

export const CATEGORIES = ['comment', 'mention', 'message', 'reaction', 'follow', 'enrollment', 'grade', 'announcement', 'security'] as const;
export type Category = (typeof CATEGORIES)[number];

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z]+_[0-9a-z]+$' });
const DateTime = Type.String({ format: 'date-time' });
export const CategorySchema = Type.Union(CATEGORIES.map((c) => Type.Literal(c)), { description: 'What the notification is about.' });

export const Notification = Type.Object(
  {
    id: Type.String(),
    category: CategorySchema,
    type: Type.String({ description: 'The event that caused it, e.g. `community.comment.created`.' }),
    title: Type.String({ description: 'For a group, the grouped title ("3 new comments on your post").' }),
    body: Type.String({ description: 'The latest item of the group.' }),
    link: Type.String({ description: 'A path into the app (`/posts/pst_…`).' }),
    entity: Type.Object({ type: Type.String(), id: Type.String() }, { additionalProperties: false }),
    count: Type.Integer({ minimum: 1, description: 'How many similar notifications this entry stands for.' }),
    actorId: Type.Union([Type.String(), Type.Null()], { description: 'Who caused the latest one, when a person did.' }),
    read: Type.Boolean(),
    readAt: Type.Union([DateTime, Type.Null()]),
    createdAt: DateTime,
    updatedAt: Type.String({ format: 'date-time', description: 'When the latest item arrived; the list is sorted by it, newest first.' }),
    version: Type.Integer(),
  },
  { $id: 'Notification', additionalProperties: false },
);
export type NotificationView = Static<typeof Notification>;

export const NotificationListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (1–100).' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Opaque `nextCursor` of the previous page.' })),
    unread: Type.Optional(Type.Boolean({ description: 'Only unread (true) or only read (false) entries.' })),
    category: Type.Optional(CategorySchema),
  },
  { additionalProperties: false },
);
export type NotificationListQuery = Static<typeof NotificationListQuery>;

export const UnreadCount = Type.Object({ unread: Type.Integer({ minimum: 0, description: 'Unread entries (a group counts once).' }) }, { $id: 'NotificationsUnreadCount', additionalProperties: false });

export const ReadBody = Type.Object(
  {
    ids: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 100, uniqueItems: true, description: 'The entries to mark read.' })),
    all: Type.Optional(Type.Literal(true, { description: 'Mark every entry read.' })),
  },
  { additionalProperties: false, minProperties: 1, description: 'Either `ids` or `all: true`.' },
);
export type ReadBody = Static<typeof ReadBody>;

export const ReadResult = Type.Object({ updated: Type.Integer({ minimum: 0, description: 'Entries that were unread and now are read.' }) }, { $id: 'NotificationsReadResult', additionalProperties: false });

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

// ── preferences ────────────────────────────────────────────────────────
export const CHANNELS = ['inApp', 'email', 'push', 'sms'] as const;
export type ChannelName = (typeof CHANNELS)[number];

const LocalTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', maxLength: 5, description: 'Local time, `HH:MM` (24 h).' });
const TimeZone = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_+\\-/]+$', description: 'IANA time zone, e.g. `Europe/Paris`.' });
const QuietHours = Type.Union(
  [Type.Object({ start: LocalTime, end: LocalTime }, { additionalProperties: false, description: 'From `start` to `end` local time (may cross midnight). Email and push are held until the end, never dropped.' }), Type.Null()],
);
const ChannelSwitches = Type.Object(
  { inApp: Type.Boolean(), email: Type.Boolean(), push: Type.Boolean(), sms: Type.Boolean({ description: 'Sent only to a verified number (`PUT /notifications/sms`).' }) },
  { additionalProperties: false },
);
const ChannelSwitchesPatch = Type.Object(
  { inApp: Type.Optional(Type.Boolean()), email: Type.Optional(Type.Boolean()), push: Type.Optional(Type.Boolean()), sms: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

const CadenceSchema = Type.Union(DIGEST_CADENCES.map((c) => Type.Literal(c)), { description: '`off`: each notification is emailed on its own; `daily` / `weekly`: gathered in one digest email.' });
const DigestHour = Type.Integer({ minimum: 0, maximum: 23, description: 'Local hour (in `timeZone`) at which the digest window closes and the digest goes out.' });
const WeekdaySchema = Type.Union(WEEKDAYS.map((d) => Type.Literal(d)), { description: 'Day of the weekly digest.' });
const Digest = Type.Object(
  {
    cadence: CadenceSchema,
    hour: DigestHour,
    weekday: WeekdaySchema,
    categories: Type.Object(Object.fromEntries(CATEGORIES.map((c) => [c, CadenceSchema])) as Record<Category, typeof CadenceSchema>, {
      additionalProperties: false,
      description: 'The cadence in effect per category: its own when set, otherwise `cadence`. `security` is always `off` (sent at once).',
    }),
  },
  { additionalProperties: false, description: 'Email digests. A category on `daily` or `weekly` is not emailed one by one.' },
);
const CadenceOrNull = Type.Union([CadenceSchema, Type.Null()]);
const DigestPatch = Type.Object(
  {
    cadence: Type.Optional(CadenceSchema),
    hour: Type.Optional(DigestHour),
    weekday: Type.Optional(WeekdaySchema),
    categories: Type.Optional(
      Type.Object(Object.fromEntries(CATEGORIES.map((c) => [c, Type.Optional(CadenceOrNull)])) as Record<Category, TOptional<typeof CadenceOrNull>>, {
        additionalProperties: false,
        description: 'Per category: a cadence of its own, or `null` to follow `cadence` again.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Fields left out keep their value.' },
);
export type DigestPatch = Static<typeof DigestPatch>;

export const Preferences = Type.Object(
  {
    muted: Type.Boolean({ description: 'Global mute: nothing is emailed or pushed (security notices still are), the inbox still fills.' }),
    timeZone: Type.String({ description: 'The IANA zone of quiet hours and digests, as in effect (see `timeZoneSource`).' }),
    timeZoneSource: Type.Union([Type.Literal('preferences'), Type.Literal('profile'), Type.Literal('default')], {
      description: '`preferences`: set here; `profile`: none set here, so the user\'s profile time zone (`GET /me`) applies and follows its changes; `default`: neither, UTC.',
    }),
    quietHours: QuietHours,
    categories: Type.Object(Object.fromEntries(CATEGORIES.map((c) => [c, ChannelSwitches])) as Record<Category, typeof ChannelSwitches>, { additionalProperties: false }),
    alwaysOn: Type.Array(CategorySchema, { description: 'Categories that cannot be switched off (security notices).' }),
    digest: Digest,
    version: Type.Integer(),
  },
  { $id: 'NotificationPreferences', additionalProperties: false },
);
export type PreferencesView = Static<typeof Preferences>;

export const PreferencesUpdate = Type.Object(
  {
    muted: Type.Optional(Type.Boolean()),
    timeZone: Type.Optional(Type.Union([TimeZone, Type.Null()], { description: 'A zone for quiet hours and digests, or `null` to follow the profile time zone again.' })),
    quietHours: Type.Optional(QuietHours),
    categories: Type.Optional(
      Type.Object(Object.fromEntries(CATEGORIES.map((c) => [c, Type.Optional(ChannelSwitchesPatch)])) as Record<Category, TOptional<typeof ChannelSwitchesPatch>>, {
        additionalProperties: false,
        description: 'Only the categories and channels given change.',
      }),
    ),
    digest: Type.Optional(DigestPatch),
  },
  { additionalProperties: false, description: 'Fields left out keep their value. `security` cannot be switched off.' },
);
export type PreferencesUpdate = Static<typeof PreferencesUpdate>;

export const UnsubscribeQuery = Type.Object(
  { t: Type.String({ minLength: 10, maxLength: 300, pattern: '^[A-Za-z0-9_.-]+$', description: 'The signed token from the `List-Unsubscribe` link.' }) },
  { additionalProperties: false },
);
export const Unsubscribed = Type.Union(
  [
    Type.Object({ category: CategorySchema, email: Type.Literal(false, { description: 'Email for this category is now off.' }) }, { additionalProperties: false, description: 'From a notification email.' }),
    Type.Object(
      {
        digest: Type.Union([Type.Literal('daily'), Type.Literal('weekly')], { description: 'The digest that is now off.' }),
        categories: Type.Array(CategorySchema, { description: 'The categories it gathered: their email is now off too, so they are not emailed one by one instead.' }),
      },
      { additionalProperties: false, description: 'From a digest email.' },
    ),
  ],
  { $id: 'NotificationsUnsubscribed' },
);
export type UnsubscribedView = Static<typeof Unsubscribed>;

// ── web push ───────────────────────────────────────────────────────────
const Base64Url = (min: number, max: number) => Type.String({ minLength: min, maxLength: max, pattern: '^[A-Za-z0-9_-]+={0,2}$' });
export const PushSubscriptionCreate = Type.Object(
  {
    endpoint: Type.String({ format: 'uri', minLength: 10, maxLength: 2048, description: 'The push service URL from `PushSubscription.endpoint` (https).' }),
    keys: Type.Object({ p256dh: Base64Url(1, 100), auth: Base64Url(1, 44) }, { additionalProperties: false, description: 'From `PushSubscription.toJSON().keys`.' }),
    expirationTime: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 1e15 }), Type.Null()], { description: 'Accepted and ignored.' })),
  },
  { additionalProperties: false, description: 'Exactly what `PushSubscription.toJSON()` returns in a browser.' },
);
export type PushSubscriptionCreate = Static<typeof PushSubscriptionCreate>;
export const PushSubscription = Type.Object(
  { id: Type.String(), endpoint: Type.String(), createdAt: DateTime, lastSuccessAt: Type.Union([DateTime, Type.Null()]) },
  { $id: 'PushSubscription', additionalProperties: false },
);
export type PushSubscriptionView = Static<typeof PushSubscription>;
export const VapidPublicKey = Type.Object({ publicKey: Type.String({ description: 'Pass as `applicationServerKey` to `pushManager.subscribe`.' }) }, { $id: 'PushVapidPublicKey', additionalProperties: false });

// ── course announcements ───────────────────────────────────────────────
export const CourseParams = Type.Object({ id: Id }, { additionalProperties: false });
export const AnnouncementParams = Type.Object({ id: Id, announcementId: Id }, { additionalProperties: false });
export const AnnouncementCreate = Type.Object(
  { title: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }), body: Type.String({ minLength: 1, maxLength: 5000, pattern: '\\S' }) },
  { additionalProperties: false },
);
export type AnnouncementCreate = Static<typeof AnnouncementCreate>;
export const Announcement = Type.Object(
  { id: Type.String(), courseId: Type.String(), authorId: Type.String(), title: Type.String(), body: Type.String(), createdAt: DateTime },
  { $id: 'CourseAnnouncement', additionalProperties: false },
);
export type AnnouncementView = Static<typeof Announcement>;

// ── SMS ────────────────────────────────────────────────────────────────
const E164 = Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$', maxLength: 16, description: 'E.164: `+`, country code, number, no spaces (`+33612345678`).' });
const Masked = Type.String({ description: 'The number with its middle digits hidden (`+33••••••78`).' });
export const SmsNumberSet = Type.Object({ phone: E164 }, { additionalProperties: false });
export type SmsNumberSet = Static<typeof SmsNumberSet>;
export const SmsVerify = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$', description: 'The 6-digit code received by SMS.' }) }, { additionalProperties: false });
export type SmsVerify = Static<typeof SmsVerify>;
export const SmsNumber = Type.Object(
  {
    phone: Type.Union([Masked, Type.Null()], { description: 'The verified number SMS notifications go to, or null.' }),
    verifiedAt: Type.Union([DateTime, Type.Null()]),
    pending: Type.Union(
      [
        Type.Object(
          { phone: Masked, expiresAt: Type.String({ format: 'date-time', description: 'When the code stops working.' }), resendAt: Type.String({ format: 'date-time', description: 'When another code may be asked for.' }) },
          { additionalProperties: false, description: 'A number waiting for its code (`POST /notifications/sms/verify`).' },
        ),
        Type.Null(),
      ],
    ),
  },
  { $id: 'NotificationsSmsNumber', additionalProperties: false },
);
export type SmsNumberView = Static<typeof SmsNumber>;

/** Row types of the notifications module's tables (snake_case, as stored). */

export interface NotificationRow {
  id: string;
  user_id: string;
  category: string;
  /** The event type that caused it (`community.comment.created`). */
  type: string;
  title: string;
  body: string;
  link: string;
  entity_type: string;
  entity_id: string;
  /** Unread notifications with the same key collapse into one row ("3 new comments on your post"). */
  group_key: string | null;
  /** The grouped title, with `{count}` standing for group_count. */
  group_title: string | null;
  group_count: number;
  /** Log seq of the event whose text the entry shows (0 for announcements); a fold keeps the newest. */
  source_seq: number;
  actor_id: string | null;
  read_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

/** One row per (recipient, source event): an event redelivered to the inbox is recognised and skipped. */
export interface ReceiptRow {
  user_id: string;
  source_key: string;
  created_at: string;
}

export interface InboxTables {
  notifications_notification: NotificationRow;
  notifications_receipt: ReceiptRow;
}

export interface PreferenceRow {
  user_id: string;
  muted: number;
  /** The IANA zone of quiet hours and digests, or null: the user's profile time zone (then UTC). */
  time_zone: string | null;
  /** `HH:MM` local time, or null when the user has no quiet hours. */
  quiet_start: string | null;
  quiet_end: string | null;
  /** JSON: `{ [category]: { inApp?, email?, push? } }`, the user's departures from the defaults. */
  channels: string;
  version: number;
  updated_at: string;
  /** JSON of the digest settings (`DigestSettings`), or null: no digests (the default). */
  digest: string | null;
  /** When the user's next digest window closes (UTC), or null when no category is digested. */
  digest_next_at: string | null;
}

export type Channel = 'email' | 'push' | 'sms';
export type DeliveryStatus = 'queued' | 'sent' | 'failed' | 'suppressed';

/** One delivery of one notification on one channel, with its fate. */
export interface DeliveryRow {
  id: string;
  user_id: string;
  notification_id: string | null;
  source_key: string;
  category: string;
  channel: Channel;
  status: DeliveryStatus;
  reason: string | null;
  attempts: number;
  last_error: string | null;
  /** JSON of what to say: `{ title, body, link }`. */
  content: string;
  /** Held until then (the delay that lets an in-app read suppress it, or the end of quiet hours). */
  not_before: string;
  created_at: string;
  updated_at: string;
}

export interface PushSubscriptionRow {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: string;
  last_success_at: string | null;
}

export interface ChannelTables {
  notifications_preference: PreferenceRow;
  notifications_delivery: DeliveryRow;
  notifications_push_subscription: PushSubscriptionRow;
}

export interface AnnouncementRow {
  id: string;
  course_id: string;
  author_id: string;
  title: string;
  body: string;
  created_at: string;
}

/** One digest email sent: the unique (user_id, cadence, window_start) makes it exactly once. */
export interface DigestRow {
  id: string;
  user_id: string;
  cadence: 'daily' | 'weekly';
  window_start: string;
  window_end: string;
  item_count: number;
  /** The core mail job that carries it. */
  mail_job_id: string | null;
  created_at: string;
}

/** A user's SMS number: `phone` once verified; a number being verified waits in `pending_phone`. */
export interface SmsNumberRow {
  user_id: string;
  phone: string | null;
  verified_at: string | null;
  pending_phone: string | null;
  /** The code is never stored: it is derived from this random nonce with a server key (sms-codes.ts). */
  code_nonce: string | null;
  code_sent_at: string | null;
  code_expires_at: string | null;
  /** Wrong codes given for the pending one. */
  code_attempts: number;
  updated_at: string;
}

/** One verification code sent, kept a day for the per-user and per-number limits. */
export interface SmsCodeSentRow {
  id: string;
  user_id: string;
  /** SHA-256 of the number, so the limit works across accounts without keeping the number. */
  phone_hash: string;
  created_at: string;
}

/** A send the provider accepted for a delivery (one per device for push): a retry skips it. */
export interface DeliverySendRow {
  delivery_id: string;
  /** The push subscription id, or `sms`. */
  target: string;
  /** The provider's message id (Twilio `sid`), when it gives one. */
  provider_ref: string | null;
  created_at: string;
}

export interface SmsTables {
  notifications_sms_number: SmsNumberRow;
  notifications_sms_code_sent: SmsCodeSentRow;
  notifications_delivery_send: DeliverySendRow;
}

export type NotificationsTables = InboxTables & ChannelTables & SmsTables & { notifications_announcement: AnnouncementRow; notifications_digest: DigestRow };

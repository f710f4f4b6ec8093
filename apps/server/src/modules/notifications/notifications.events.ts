import type { NotificationView } from './notifications.schemas.js';

/** The events the notifications module appends to the log, all scoped `user:<recipient>`. */
export const NotificationsEvents = {
  /** A new inbox entry; sockets receive it as `notification:new` (API.md). */
  created: 'notifications.notification.created',
  /** An unread entry absorbed another similar one (its count, body and time changed). */
  updated: 'notifications.notification.updated',
  /** Entries were marked read (on another device, by reading the conversation, …). */
  read: 'notifications.notification.read',
  deleted: 'notifications.notification.deleted',
  /** The user's preferences changed (another device may refresh its settings screen). */
  preferencesUpdated: 'notifications.preferences.updated',
  /** A digest email was queued for the user (one per user, cadence and window). */
  digestSent: 'notifications.digest.sent',
  /** A course announcement was made (scope `course:<id>`); members' inbox entries follow from the fan-out. */
  announcementCreated: 'notifications.announcement.created',
} as const;

export interface NotificationCreatedPayload {
  notification: NotificationView;
}

export interface NotificationReadPayload {
  userId: string;
  /** The entries marked read; absent when all were. */
  ids?: string[];
  all?: boolean;
}

export interface NotificationDeletedPayload {
  userId: string;
  id: string;
}

export interface DigestSentPayload {
  userId: string;
  cadence: 'daily' | 'weekly';
  windowStart: string;
  windowEnd: string;
  count: number;
}

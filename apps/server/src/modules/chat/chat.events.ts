import type { ConversationKind, MemberRole } from './chat.tables.js';

/** The events the chat module appends to the log, with their payloads. Scopes: `conversation:<id>` unless noted. */
export const ChatEvents = {
  conversationCreated: 'chat.conversation.created',
  conversationUpdated: 'chat.conversation.updated',
  conversationRead: 'chat.conversation.read',
  memberAdded: 'chat.member.added',
  memberUpdated: 'chat.member.updated',
  memberRemoved: 'chat.member.removed',
  messageCreated: 'chat.message.created',
  /** Scope `internal` (no client may follow it): who is to be notified of a message, which says who muted. */
  messageNotify: 'chat.message.notify',
  messageUpdated: 'chat.message.updated',
  messageDeleted: 'chat.message.deleted',
  mentionCreated: 'chat.mention.created',
  reactionAdded: 'chat.reaction.added',
  reactionRemoved: 'chat.reaction.removed',
  messageReported: 'chat.message.reported',
  muteUpdated: 'chat.mute.updated',
} as const;

/** Scopes `conversation:<id>` and `user:<member>` for every member, so that they learn of it without having joined the room. */
export interface ConversationCreatedPayload {
  conversationId: string;
  kind: ConversationKind;
  memberIds: string[];
}

export interface ConversationUpdatedPayload {
  conversationId: string;
  version: number;
  title: string | null;
}

export interface ConversationReadPayload {
  conversationId: string;
  userId: string;
  readSeq: number;
  deliveredSeq: number;
}

/** Scopes `conversation:<id>` and `user:<userId>` (the added or removed member). */
export interface MemberChangedPayload {
  conversationId: string;
  userId: string;
  role: MemberRole | null;
  actorId: string;
}

export interface MessageCreatedPayload {
  conversationId: string;
  conversationKind: ConversationKind;
  messageId: string;
  seq: number;
  senderId: string;
  /** The first 140 characters of the text. */
  preview: string;
  /** Members except the sender; absent for course channels (follow `course:<id>` membership instead). */
  recipientIds?: string[];
  clientMessageId: string | null;
  replyToId: string | null;
  mentions: string[];
  attachments: string[];
  body: string;
  createdAt: string;
}

/**
 * Kept apart from `chat.message.created`, which every member receives: listing who gets a
 * notification there would tell the others who muted the conversation.
 */
export interface MessageNotifyPayload {
  conversationId: string;
  messageId: string;
  senderId: string;
  preview: string;
  /** Members except the sender and those who muted the conversation now. */
  notifyIds: string[];
}

export interface MessageUpdatedPayload {
  conversationId: string;
  messageId: string;
  seq: number;
  body: string;
  version: number;
  editedAt: string;
}

export interface MessageDeletedPayload {
  conversationId: string;
  messageId: string;
  seq: number;
  deletedBy: string;
}

/** Scope `user:<userId>`: the notification module turns it into a notification. */
export interface MentionCreatedPayload {
  conversationId: string;
  messageId: string;
  senderId: string;
  userId: string;
}

export interface ReactionPayload {
  conversationId: string;
  messageId: string;
  userId: string;
  emoji: string;
}

/** Scope `system` (administrators). */
export interface MessageReportedPayload {
  reportId: string;
  conversationId: string;
  messageId: string;
  reporterId: string;
  reason: string;
}

/** Scope `user:<userId>` only (a mute is the member's own business): their other devices follow it. */
export interface MuteUpdatedPayload {
  conversationId: string;
  userId: string;
  muted: boolean;
  /** Null when not muted, or muted indefinitely. */
  mutedUntil: string | null;
}

/** Row types of the chat module's tables (snake_case, as stored). */

export type ConversationKind = 'direct' | 'group' | 'course';
export type MemberRole = 'owner' | 'admin' | 'member';

export interface ConversationRow {
  id: string;
  kind: ConversationKind;
  title: string | null;
  direct_key: string | null;
  course_id: string | null;
  created_by: string;
  /** Seq of the newest message; read (on PostgreSQL, locked) and set in the sending transaction. */
  last_seq: number;
  member_count: number;
  /** Time of the newest message (or creation): the order of "my conversations". */
  activity_at: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface MemberRow {
  conversation_id: string;
  user_id: string;
  role: MemberRole;
  read_seq: number;
  delivered_seq: number;
  joined_at: string;
  /** No notifications until then (`MUTED_FOREVER`: indefinitely); null when not muted. */
  muted_until: string | null;
}

/** `muted_until` of an indefinite mute: later than any time the app will see. */
export const MUTED_FOREVER = '9999-12-31T23:59:59.999Z';

export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  client_message_id: string | null;
  /** Markdown; null once deleted (a tombstone keeps the seq). */
  body: string | null;
  reply_to_id: string | null;
  /** JSON array of user ids. */
  mentions: string;
  /** JSON array of attachment ids (the files module resolves them). */
  attachments: string;
  edit_count: number;
  edited_at: string | null;
  deleted_at: string | null;
  deleted_by: string | null;
  version: number;
  created_at: string;
}

export interface MessageEditRow {
  id: string;
  message_id: string;
  /** The text as it was before this edit. */
  body: string;
  /** When that text was written. */
  created_at: string;
  /** When it was replaced. */
  replaced_at: string;
}

export interface ReactionRow {
  message_id: string;
  user_id: string;
  emoji: string;
  created_at: string;
}

export interface ReportRow {
  id: string;
  message_id: string;
  conversation_id: string;
  reporter_id: string;
  reason: string;
  created_at: string;
}

export interface BlockRow {
  blocker_id: string;
  blocked_id: string;
  created_at: string;
}

export interface ChatTables {
  chat_block: BlockRow;
  chat_conversation: ConversationRow;
  chat_member: MemberRow;
  chat_message: MessageRow;
  chat_message_edit: MessageEditRow;
  chat_reaction: ReactionRow;
  chat_report: ReportRow;
}

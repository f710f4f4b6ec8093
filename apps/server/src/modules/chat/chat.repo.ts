import { sql, type Kysely, type SqlBool } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import { isPostgres, jsonRecords } from '../../core/db/portable.js';
import { inCompiledParts } from '../../core/db/parts.js';
import { compileWriteOn, perCount, rowsOf, valuesOf } from '../../core/db/prepared-read.js';
import type { BlockRow, ChatTables, ConversationRow, MemberRow, MessageEditRow, MessageRow, ReactionRow, ReportRow } from './chat.tables.js';

type Executor = Kysely<ChatTables>;

export interface MyConversationRow extends ConversationRow {
  role: MemberRow['role'];
  read_seq: number;
  delivered_seq: number;
  joined_at: string;
  muted_until: string | null;
}

export interface LastMessageRow {
  conversation_id: string;
  id: string;
  seq: number;
  sender_id: string;
  body: string | null;
  created_at: string;
  deleted_at: string | null;
}

export interface SendContextRow {
  kind: ConversationRow['kind'];
  direct_key: string | null;
  last_seq: number;
  existing_id: string | null;
  limit_reached_by: string | null;
  blocked: SqlBool;
}

/** What one send asks of the batch's context read (sendContexts). */
export interface SendQuery {
  conversation_id: string;
  sender_id: string;
  client_message_id: string | null;
  /** The send limit's window starts after this time. */
  since: string;
}

const MESSAGE_COLUMNS = [
  'id',
  'conversation_id',
  'seq',
  'sender_id',
  'client_message_id',
  'body',
  'reply_to_id',
  'mentions',
  'attachments',
  'edit_count',
  'edited_at',
  'deleted_at',
  'deleted_by',
  'version',
  'created_at',
] as const satisfies ReadonlyArray<keyof MessageRow>;

/**
 * Inserts messages (a send batch's) through statements compiled once per row count, in parts sized
 * for that (parts.ts): Kysely building a new multi-row insert of 15 columns for every batch showed
 * in the send path's profile.
 */
export function messageInserts(root: Db) {
  const insert = perCount((count) =>
    compileWriteOn(root, (q, ...values: unknown[]) => q.insertInto('chat_message').values(rowsOf<MessageRow>(MESSAGE_COLUMNS, values)), count * MESSAGE_COLUMNS.length),
  );
  return async (tx: Tx, rows: readonly MessageRow[]): Promise<void> => {
    for (const part of inCompiledParts(rows)) await insert(part.length)(tx, ...valuesOf(MESSAGE_COLUMNS, part));
  };
}

/** One repo per handle: building its few dozen closures on every call showed in the send path's profile. */
const repos = new WeakMap<Db | Tx, ReturnType<typeof buildRepo>>();

/** Kysely queries on the chat_* tables, and nothing else. `chatRepo(tx)` binds them to a transaction. */
export function chatRepo(handle: Db | Tx) {
  let repo = repos.get(handle);
  if (!repo) repos.set(handle, (repo = buildRepo(handle)));
  return repo;
}

function buildRepo(handle: Db | Tx) {
  const db = handle as unknown as Executor;
  return {
    // ── conversations ────────────────────────────────────────────────────
    insertConversation: (row: ConversationRow) => db.insertInto('chat_conversation').values(row).execute(),
    findConversation: (id: string) => db.selectFrom('chat_conversation').selectAll().where('id', '=', id).executeTakeFirst(),
    findDirect: (key: string) => db.selectFrom('chat_conversation').selectAll().where('direct_key', '=', key).executeTakeFirst(),
    findCourseChannel: (courseId: string) => db.selectFrom('chat_conversation').selectAll().where('course_id', '=', courseId).executeTakeFirst(),
    async updateConversation(id: string, version: number, changes: Partial<Pick<ConversationRow, 'title' | 'updated_at'>>): Promise<boolean> {
      const result = await db.updateTable('chat_conversation').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** Sets conversations' last seq and activity, one statement for all of them (a send batch's). */
    setLastSeqs: (rows: Array<{ id: string; seq: number; at: string }>) =>
      sql`update "chat_conversation" set last_seq = v.seq, activity_at = v.at
        from ${jsonRecords(db, 'v', rows, { id: 'text', seq: 'integer', at: 'text' })} where chat_conversation.id = v.id`.execute(db),
    /**
     * Everything the sends of a batch must check, in one read; an answer per query, in their order.
     * For each: the conversation (only if the sender is a member; else undefined) and its last seq,
     * an earlier message with the same client id (none when it is null), the message `offset`
     * places back among those the sender sent after `since` (present: the send limit is reached),
     * and whether either person of a direct conversation blocked the other. On PostgreSQL it locks
     * the conversations' rows, as the seqs it reads are taken, all at once and sorted by id, so that
     * batches running side by side lock in one order (SQLite's one writer needs no lock).
     */
    async sendContexts(queries: readonly SendQuery[], offset: number): Promise<Array<SendContextRow | undefined>> {
      const sends = jsonRecords(db, 'v', queries.map((q, i) => ({ i, ...q })), { i: 'integer', conversation_id: 'text', sender_id: 'text', client_message_id: 'text', since: 'text' });
      // Cross joins, from the sends on: SQLite would otherwise guess a scan of every conversation first.
      const { rows } = await sql<SendContextRow & { i: number }>`select v.i, c.kind, c.direct_key, c.last_seq,
          (select m.id from "chat_message" m where m.conversation_id = c.id and m.sender_id = v.sender_id and m.client_message_id = v.client_message_id) as existing_id,
          (select m.created_at from "chat_message" m where m.sender_id = v.sender_id and m.created_at > v.since order by m.created_at desc limit 1 offset ${offset}) as limit_reached_by,
          case when c.kind = 'direct' then exists (
            select 1 from "chat_member" peer join "chat_block" b
              on (b.blocker_id = v.sender_id and b.blocked_id = peer.user_id) or (b.blocker_id = peer.user_id and b.blocked_id = v.sender_id)
            where peer.conversation_id = c.id and peer.user_id <> v.sender_id) else false end as blocked
        from ${sends} cross join "chat_member" me cross join "chat_conversation" c
        where me.conversation_id = v.conversation_id and me.user_id = v.sender_id and c.id = v.conversation_id
        order by c.id${isPostgres(db) ? sql` for update of c` : sql``}`.execute(db);
      const answers: Array<SendContextRow | undefined> = queries.map(() => undefined);
      for (const row of rows) answers[Number(row.i)] = row;
      return answers;
    },
    changeMemberCount: (id: string, delta: number) =>
      db.updateTable('chat_conversation').set((eb) => ({ member_count: eb('member_count', '+', delta) })).where('id', '=', id).execute(),
    /** The caller's conversations, most recently active first; keyset on (activity_at, id). */
    listMine(userId: string, limit: number, after?: [string, string]): Promise<MyConversationRow[]> {
      let query = db
        .selectFrom('chat_member as m')
        .innerJoin('chat_conversation as c', 'c.id', 'm.conversation_id')
        .selectAll('c')
        .select(['m.role', 'm.read_seq', 'm.delivered_seq', 'm.joined_at', 'm.muted_until'])
        .where('m.user_id', '=', userId);
      if (after) {
        const [at, id] = after;
        query = query.where((eb) => eb.or([eb('c.activity_at', '<', at), eb.and([eb('c.activity_at', '=', at), eb('c.id', '<', id)])]));
      }
      return query.orderBy('c.activity_at', 'desc').orderBy('c.id', 'desc').limit(limit).execute() as Promise<MyConversationRow[]>;
    },
    async lastMessages(conversations: Array<{ id: string; last_seq: number }>): Promise<Map<string, LastMessageRow>> {
      const result = new Map<string, LastMessageRow>();
      const wanted = conversations.filter((c) => c.last_seq > 0);
      if (!wanted.length) return result;
      const rows = await db
        .selectFrom('chat_message')
        .select(['conversation_id', 'id', 'seq', 'sender_id', 'body', 'created_at', 'deleted_at'])
        .where((eb) => eb.or(wanted.map((c) => eb.and([eb('conversation_id', '=', c.id), eb('seq', '=', c.last_seq)]))))
        .execute();
      for (const row of rows) result.set(row.conversation_id, row);
      return result;
    },

    // ── members ──────────────────────────────────────────────────────────
    insertMember: (row: MemberRow) => db.insertInto('chat_member').values(row).execute(),
    findMember: (conversationId: string, userId: string) =>
      db.selectFrom('chat_member').selectAll().where('conversation_id', '=', conversationId).where('user_id', '=', userId).executeTakeFirst(),
    async deleteMember(conversationId: string, userId: string): Promise<boolean> {
      const result = await db.deleteFrom('chat_member').where('conversation_id', '=', conversationId).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    setRole: (conversationId: string, userId: string, role: MemberRow['role']) =>
      db.updateTable('chat_member').set({ role }).where('conversation_id', '=', conversationId).where('user_id', '=', userId).execute(),
    listMembers(conversationId: string, limit: number, afterUserId?: string) {
      let query = db.selectFrom('chat_member').selectAll().where('conversation_id', '=', conversationId);
      if (afterUserId) query = query.where('user_id', '>', afterUserId);
      return query.orderBy('user_id').limit(limit).execute();
    },
    setMemberCount: (id: string, count: number) => db.updateTable('chat_conversation').set({ member_count: count }).where('id', '=', id).execute(),
    memberIds: async (conversationId: string) => (await db.selectFrom('chat_member').select('user_id').where('conversation_id', '=', conversationId).execute()).map((r) => r.user_id),
    conversationIdsOf: async (userId: string, limit: number) =>
      (await db.selectFrom('chat_member').select('conversation_id').where('user_id', '=', userId).orderBy('conversation_id').limit(limit).execute()).map((r) => r.conversation_id),
    sharesConversation: async (a: string, b: string) =>
      Boolean(
        await db
          .selectFrom('chat_member as m1')
          .innerJoin('chat_member as m2', 'm2.conversation_id', 'm1.conversation_id')
          .select('m1.conversation_id')
          .where('m1.user_id', '=', a)
          .where('m2.user_id', '=', b)
          .limit(1)
          .executeTakeFirst(),
      ),
    membersAmong: async (conversationId: string, userIds: string[]) =>
      userIds.length
        ? (await db.selectFrom('chat_member').select('user_id').where('conversation_id', '=', conversationId).where('user_id', 'in', userIds).execute()).map((r) => r.user_id)
        : [],
    /** The oldest remaining admin, else the oldest member: who inherits a group whose owner left. */
    successor: (conversationId: string) =>
      db
        .selectFrom('chat_member')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy(sql`case when role = 'admin' then 0 else 1 end`)
        .orderBy('joined_at')
        .orderBy('user_id')
        .limit(1)
        .executeTakeFirst(),
    /** Moves the watermarks forward only (a late, lower mark never moves them back), in one statement. */
    advanceWatermarks: (conversationId: string, userId: string, readSeq: number, deliveredSeq: number) =>
      db
        .updateTable('chat_member')
        .set({
          read_seq: sql<number>`case when read_seq < ${readSeq} then ${readSeq} else read_seq end`,
          delivered_seq: sql<number>`case when delivered_seq < ${deliveredSeq} then ${deliveredSeq} else delivered_seq end`,
        })
        .where('conversation_id', '=', conversationId)
        .where('user_id', '=', userId)
        .execute(),

    /** advanceWatermarks for many members (each once), in one statement: a send batch's senders. */
    advanceManyWatermarks: (rows: Array<{ conversationId: string; userId: string; seq: number }>) =>
      sql`update "chat_member"
        set read_seq = case when read_seq < v.seq then v.seq else read_seq end, delivered_seq = case when delivered_seq < v.seq then v.seq else delivered_seq end
        from ${jsonRecords(db, 'v', rows, { conversationId: 'text', userId: 'text', seq: 'integer' })}
        where chat_member.conversation_id = v."conversationId" and chat_member.user_id = v."userId"`.execute(db),

    setMute: (conversationId: string, userId: string, mutedUntil: string | null) =>
      db.updateTable('chat_member').set({ muted_until: mutedUntil }).where('conversation_id', '=', conversationId).where('user_id', '=', userId).execute(),
    /** Members, but `exceptId`, who have not read up to `seq` and whose mute (if any) has ended by `at`: whom a message is to notify. */
    unreadUnmutedIds: async (conversationId: string, seq: number, exceptId: string, at: string) =>
      (
        await db
          .selectFrom('chat_member')
          .select('user_id')
          .where('conversation_id', '=', conversationId)
          .where('read_seq', '<', seq)
          .where('user_id', '<>', exceptId)
          .where((eb) => eb.or([eb('muted_until', 'is', null), eb('muted_until', '<=', at)]))
          .orderBy('user_id')
          .execute()
      ).map((r) => r.user_id),

    // ── messages ─────────────────────────────────────────────────────────
    /** The newest message that is not deleted. */
    latestLiveMessage: (conversationId: string) =>
      db.selectFrom('chat_message').selectAll().where('conversation_id', '=', conversationId).where('deleted_at', 'is', null).orderBy('seq', 'desc').limit(1).executeTakeFirst(),
    /**
     * SQLite: adds new messages to the search index (PostgreSQL's GIN index keeps itself), in two
     * statements whatever their number. FTS5 writes what it holds out as a new segment (to be merged
     * later) whenever a statement opens a savepoint, as every insert that fires a trigger does:
     * indexed by a trigger on insert, each message was a segment of its own, and cost most of its
     * send. Edits and deletes, rare, stay with the triggers.
     */
    async indexForSearch(messageIds: string[]): Promise<void> {
      if (isPostgres(db) || !messageIds.length) return;
      const ids = JSON.stringify(messageIds);
      await sql`insert into "chat_message_search" (message_id)
        select m.id from json_each(${ids}) j join chat_message m on m.id = j.value where m.body is not null and m.deleted_at is null`.execute(db);
      await sql`insert into "chat_message_fts" (rowid, body)
        select s.doc, m.body from json_each(${ids}) j join chat_message_search s on s.message_id = j.value join chat_message m on m.id = j.value`.execute(db);
    },
    findMessage: (conversationId: string, id: string) =>
      db.selectFrom('chat_message').selectAll().where('conversation_id', '=', conversationId).where('id', '=', id).executeTakeFirst(),
    findByClientId: (conversationId: string, senderId: string, clientMessageId: string) =>
      db
        .selectFrom('chat_message')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .where('sender_id', '=', senderId)
        .where('client_message_id', '=', clientMessageId)
        .executeTakeFirst(),
    listMessages(conversationId: string, options: { direction: 'asc' | 'desc'; from?: number; limit: number }) {
      let query = db.selectFrom('chat_message').selectAll().where('conversation_id', '=', conversationId);
      if (options.from !== undefined) query = query.where('seq', options.direction === 'asc' ? '>' : '<', options.from);
      return query.orderBy('seq', options.direction).limit(options.limit).execute();
    },
    async updateMessage(id: string, version: number, changes: Partial<MessageRow>): Promise<boolean> {
      const result = await db.updateTable('chat_message').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    insertEdit: (row: MessageEditRow) => db.insertInto('chat_message_edit').values(row).execute(),
    listEdits(messageId: string, limit: number, afterId?: string) {
      let query = db.selectFrom('chat_message_edit').selectAll().where('message_id', '=', messageId);
      if (afterId) query = query.where('id', '>', afterId);
      return query.orderBy('id').limit(limit).execute();
    },

    /**
     * Live messages whose current text holds every word, in the conversations `userId` is a member
     * of, newest first; keyset on (created_at, id). `words` are letters and digits only.
     */
    searchMessages(userId: string, words: string[], options: { conversationId?: string; after?: [string, string]; limit: number }) {
      const matches = isPostgres(db)
        ? sql<SqlBool>`to_tsvector('simple', m.body) @@ plainto_tsquery('simple', ${words.join(' ')})`
        : // FTS5: each word a quoted string (quotes doubled, though words hold none), all of them required.
          sql<SqlBool>`m.id in (select s.message_id from chat_message_fts f join chat_message_search s on s.doc = f.rowid where chat_message_fts match ${words.map((w) => `"${w.replace(/"/g, '""')}"`).join(' AND ')})`;
      let query = db
        .selectFrom('chat_message as m')
        .innerJoin('chat_member as mb', (join) => join.onRef('mb.conversation_id', '=', 'm.conversation_id').on('mb.user_id', '=', userId))
        .select(['m.id', 'm.conversation_id', 'm.seq', 'm.sender_id', 'm.body', 'm.edited_at', 'm.created_at'])
        .where('m.deleted_at', 'is', null)
        .where(matches);
      if (options.conversationId) query = query.where('m.conversation_id', '=', options.conversationId);
      if (options.after) {
        const [at, id] = options.after;
        query = query.where((eb) => eb.or([eb('m.created_at', '<', at), eb.and([eb('m.created_at', '=', at), eb('m.id', '<', id)])]));
      }
      return query.orderBy('m.created_at', 'desc').orderBy('m.id', 'desc').limit(options.limit).execute();
    },

    // ── blocks ───────────────────────────────────────────────────────────
    async insertBlock(row: BlockRow): Promise<boolean> {
      const existing = await db.selectFrom('chat_block').select('created_at').where('blocker_id', '=', row.blocker_id).where('blocked_id', '=', row.blocked_id).executeTakeFirst();
      if (existing) return false;
      await db.insertInto('chat_block').values(row).execute();
      return true;
    },
    async deleteBlock(blockerId: string, blockedId: string): Promise<boolean> {
      const result = await db.deleteFrom('chat_block').where('blocker_id', '=', blockerId).where('blocked_id', '=', blockedId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    findBlock: (blockerId: string, blockedId: string) => db.selectFrom('chat_block').selectAll().where('blocker_id', '=', blockerId).where('blocked_id', '=', blockedId).executeTakeFirst(),
    listBlocks(blockerId: string, limit: number, afterId?: string) {
      let query = db.selectFrom('chat_block').selectAll().where('blocker_id', '=', blockerId);
      if (afterId) query = query.where('blocked_id', '>', afterId);
      return query.orderBy('blocked_id').limit(limit).execute();
    },

    // ── reactions and reports ────────────────────────────────────────────
    async insertReaction(row: ReactionRow): Promise<boolean> {
      const existing = await db
        .selectFrom('chat_reaction')
        .select('emoji')
        .where('message_id', '=', row.message_id)
        .where('user_id', '=', row.user_id)
        .where('emoji', '=', row.emoji)
        .executeTakeFirst();
      if (existing) return false;
      await db.insertInto('chat_reaction').values(row).execute();
      return true;
    },
    async deleteReaction(messageId: string, userId: string, emoji: string): Promise<boolean> {
      const result = await db.deleteFrom('chat_reaction').where('message_id', '=', messageId).where('user_id', '=', userId).where('emoji', '=', emoji).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    distinctEmojis: async (messageId: string, userId: string) =>
      (await db.selectFrom('chat_reaction').select('emoji').where('message_id', '=', messageId).where('user_id', '=', userId).execute()).length,
    reactionsOf: (messageIds: string[]) =>
      messageIds.length ? db.selectFrom('chat_reaction').selectAll().where('message_id', 'in', messageIds).orderBy('created_at').orderBy('emoji').execute() : Promise.resolve([] as ReactionRow[]),
    insertReport: (row: ReportRow) => db.insertInto('chat_report').values(row).execute(),
    findReport: (messageId: string, reporterId: string) =>
      db.selectFrom('chat_report').selectAll().where('message_id', '=', messageId).where('reporter_id', '=', reporterId).executeTakeFirst(),
  };
}

export type ChatRepo = ReturnType<typeof chatRepo>;

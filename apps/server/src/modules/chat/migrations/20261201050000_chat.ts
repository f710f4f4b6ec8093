import type { Kysely } from 'kysely';

/**
 * Conversations (direct, group, course channel), their members with read/delivered watermarks,
 * messages with a per-conversation monotonic `seq`, edit history, reactions and reports.
 * Times are RFC 3339 UTC text, which sorts and compares correctly on both databases.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('chat_conversation')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    // Direct conversations: the two user ids, sorted and joined; unique, so there is one per pair.
    .addColumn('direct_key', 'text', (c) => c.unique())
    // Course channels: the course; unique, so there is one per course.
    .addColumn('course_id', 'text', (c) => c.unique())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('last_seq', 'integer', (c) => c.notNull())
    .addColumn('member_count', 'integer', (c) => c.notNull())
    .addColumn('activity_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('chat_member')
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('chat_conversation.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('read_seq', 'integer', (c) => c.notNull())
    .addColumn('delivered_seq', 'integer', (c) => c.notNull())
    .addColumn('joined_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('chat_member_pk', ['conversation_id', 'user_id'])
    .execute();
  await db.schema.createIndex('chat_member_user').on('chat_member').columns(['user_id', 'conversation_id']).execute();

  await db.schema
    .createTable('chat_message')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('chat_conversation.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('sender_id', 'text', (c) => c.notNull())
    .addColumn('client_message_id', 'text')
    .addColumn('body', 'text')
    .addColumn('reply_to_id', 'text')
    .addColumn('mentions', 'text', (c) => c.notNull())
    .addColumn('attachments', 'text', (c) => c.notNull())
    .addColumn('edit_count', 'integer', (c) => c.notNull())
    .addColumn('edited_at', 'text')
    .addColumn('deleted_at', 'text')
    .addColumn('deleted_by', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('chat_message_seq').on('chat_message').columns(['conversation_id', 'seq']).unique().execute();
  await db.schema.createIndex('chat_message_client').on('chat_message').columns(['conversation_id', 'sender_id', 'client_message_id']).unique().execute();
  await db.schema.createIndex('chat_message_sender').on('chat_message').columns(['sender_id', 'created_at']).execute();

  await db.schema
    .createTable('chat_message_edit')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('message_id', 'text', (c) => c.notNull().references('chat_message.id').onDelete('cascade'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('replaced_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('chat_message_edit_message').on('chat_message_edit').columns(['message_id', 'id']).execute();

  await db.schema
    .createTable('chat_reaction')
    .addColumn('message_id', 'text', (c) => c.notNull().references('chat_message.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('emoji', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('chat_reaction_pk', ['message_id', 'user_id', 'emoji'])
    .execute();

  await db.schema
    .createTable('chat_report')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('message_id', 'text', (c) => c.notNull().references('chat_message.id').onDelete('cascade'))
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('reporter_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('chat_report_once').on('chat_report').columns(['message_id', 'reporter_id']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['chat_report', 'chat_reaction', 'chat_message_edit', 'chat_message', 'chat_member', 'chat_conversation']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}

import type { Kysely } from 'kysely';

/**
 * Moderation: a status and reason on posts and comments, reports against them (one per reporter
 * and target), and blocks between users.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['community_post', 'community_comment']) {
    await db.schema.alterTable(table).addColumn('moderation', 'text', (c) => c.notNull().defaultTo('visible')).execute();
    await db.schema.alterTable(table).addColumn('moderation_reason', 'text').execute();
    await db.schema.alterTable(table).addColumn('moderated_by', 'text').execute();
    await db.schema.alterTable(table).addColumn('moderated_at', 'text').execute();
  }

  await db.schema
    .createTable('community_report')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('post_id', 'text', (c) => c.notNull())
    .addColumn('course_id', 'text')
    .addColumn('reporter_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('resolution', 'text')
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_at', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('community_report_once', ['target_type', 'target_id', 'reporter_id'])
    .execute();
  await db.schema.createIndex('community_report_queue').on('community_report').columns(['status', 'created_at', 'id']).execute();
  await db.schema.createIndex('community_report_course').on('community_report').columns(['course_id', 'status']).execute();

  await db.schema
    .createTable('community_block')
    .addColumn('blocker_id', 'text', (c) => c.notNull())
    .addColumn('blocked_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('community_block_pk', ['blocker_id', 'blocked_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('community_block').ifExists().execute();
  await db.schema.dropTable('community_report').ifExists().execute();
  for (const table of ['community_post', 'community_comment']) {
    for (const column of ['moderated_at', 'moderated_by', 'moderation_reason', 'moderation']) await db.schema.alterTable(table).dropColumn(column).execute();
  }
}

import type { Kysely } from 'kysely';

/**
 * Digests: the user's digest settings (JSON) and when their next digest window closes, on the
 * preference row; and one row per digest sent, whose unique key (user, cadence, window start)
 * makes each digest go out exactly once whatever the number of workers or nodes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications_preference').addColumn('digest', 'text').execute();
  await db.schema.alterTable('notifications_preference').addColumn('digest_next_at', 'text').execute();
  await db.schema.createIndex('notifications_preference_digest_due').on('notifications_preference').columns(['digest_next_at', 'user_id']).execute();
  await db.schema
    .createTable('notifications_digest')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('cadence', 'text', (c) => c.notNull())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('window_end', 'text', (c) => c.notNull())
    .addColumn('item_count', 'integer', (c) => c.notNull())
    .addColumn('mail_job_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notifications_digest_once').on('notifications_digest').columns(['user_id', 'cadence', 'window_start']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notifications_digest').ifExists().execute();
  await db.schema.dropIndex('notifications_preference_digest_due').ifExists().execute();
  await db.schema.alterTable('notifications_preference').dropColumn('digest_next_at').execute();
  await db.schema.alterTable('notifications_preference').dropColumn('digest').execute();
}

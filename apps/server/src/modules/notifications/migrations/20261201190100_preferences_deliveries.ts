import type { Kysely } from 'kysely';

/** Preferences per user (channels per category, mute, quiet hours) and every delivery attempt per channel. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notifications_preference')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('muted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('quiet_start', 'text')
    .addColumn('quiet_end', 'text')
    .addColumn('channels', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('notifications_delivery')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('notification_id', 'text')
    .addColumn('source_key', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('not_before', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notifications_delivery_once').on('notifications_delivery').columns(['user_id', 'source_key', 'channel']).unique().execute();
  await db.schema.createIndex('notifications_delivery_notification').on('notifications_delivery').column('notification_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notifications_delivery').ifExists().execute();
  await db.schema.dropTable('notifications_preference').ifExists().execute();
}

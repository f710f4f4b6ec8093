import { sql, type Kysely } from 'kysely';

/** The inbox: one row per notification (or group of similar unread ones), and receipts that make ingestion idempotent. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notifications_notification')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('link', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('group_key', 'text')
    .addColumn('group_title', 'text')
    .addColumn('group_count', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('actor_id', 'text')
    .addColumn('read_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.createIndex('notifications_notification_user_time').on('notifications_notification').columns(['user_id', 'updated_at', 'id']).execute();
  await db.schema.createIndex('notifications_notification_entity').on('notifications_notification').columns(['user_id', 'entity_type', 'entity_id']).execute();
  // At most one unread row per group: similar notifications are folded into it by an atomic upsert.
  await db.schema
    .createIndex('notifications_notification_open_group')
    .on('notifications_notification')
    .columns(['user_id', 'group_key'])
    .unique()
    .where(sql.ref('read_at'), 'is', null)
    .where('group_key', 'is not', null)
    .execute();
  await db.schema
    .createTable('notifications_receipt')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('source_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('notifications_receipt_pk', ['user_id', 'source_key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notifications_receipt').ifExists().execute();
  await db.schema.dropTable('notifications_notification').ifExists().execute();
}

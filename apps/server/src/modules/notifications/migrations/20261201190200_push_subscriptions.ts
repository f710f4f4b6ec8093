import type { Kysely } from 'kysely';

/** Web push subscriptions, one per browser or device (the endpoint is unique). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notifications_push_subscription')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull().unique())
    .addColumn('p256dh', 'text', (c) => c.notNull())
    .addColumn('auth', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_success_at', 'text')
    .execute();
  await db.schema.createIndex('notifications_push_subscription_user').on('notifications_push_subscription').column('user_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notifications_push_subscription').ifExists().execute();
}

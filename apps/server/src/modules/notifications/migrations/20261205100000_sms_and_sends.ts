import type { Kysely } from 'kysely';

/**
 * SMS numbers (verified before anything else is sent to them), the verification codes sent (for the
 * per-user and per-number limits), and the sends a provider accepted for a delivery: recorded before
 * the job is acknowledged, so a retried job does not send the same thing twice.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notifications_sms_number')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('phone', 'text')
    .addColumn('verified_at', 'text')
    .addColumn('pending_phone', 'text')
    .addColumn('code_nonce', 'text')
    .addColumn('code_sent_at', 'text')
    .addColumn('code_expires_at', 'text')
    .addColumn('code_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('notifications_sms_code_sent')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('phone_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notifications_sms_code_sent_user').on('notifications_sms_code_sent').columns(['user_id', 'created_at']).execute();
  await db.schema.createIndex('notifications_sms_code_sent_phone').on('notifications_sms_code_sent').columns(['phone_hash', 'created_at']).execute();
  await db.schema
    .createTable('notifications_delivery_send')
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('provider_ref', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('notifications_delivery_send_pk', ['delivery_id', 'target'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notifications_delivery_send').ifExists().execute();
  await db.schema.dropTable('notifications_sms_code_sent').ifExists().execute();
  await db.schema.dropTable('notifications_sms_number').ifExists().execute();
}

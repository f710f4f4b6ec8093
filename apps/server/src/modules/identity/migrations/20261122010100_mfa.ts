import type { Kysely } from 'kysely';

/** TOTP second factor: the secret (encrypted at rest), hashed recovery codes, and pending login challenges. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('identity_totp')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('identity_user.id').onDelete('cascade'))
    .addColumn('secret_encrypted', 'text', (c) => c.notNull())
    .addColumn('confirmed_at', 'text')
    .addColumn('last_time_step', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('identity_recovery_code')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('identity_user.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema.createIndex('identity_recovery_code_user').on('identity_recovery_code').column('user_id').execute();
  await db.schema
    .createTable('identity_mfa_challenge')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('identity_user.id').onDelete('cascade'))
    .addColumn('device', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('identity_mfa_challenge').ifExists().execute();
  await db.schema.dropTable('identity_recovery_code').ifExists().execute();
  await db.schema.dropTable('identity_totp').ifExists().execute();
}

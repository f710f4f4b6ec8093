import type { Kysely } from 'kysely';

/** Single sign-on: attempts in flight, links to provider accounts, and one-time login codes. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('identity_oidc_flow')
    .addColumn('state_hash', 'text', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema
    .createTable('identity_oidc_link')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('identity_user.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('identity_oidc_link_pk', ['provider', 'subject'])
    .execute();
  await db.schema.createIndex('identity_oidc_link_user').on('identity_oidc_link').column('user_id').execute();
  await db.schema
    .createTable('identity_oidc_login_code')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('identity_user.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('identity_oidc_login_code').ifExists().execute();
  await db.schema.dropTable('identity_oidc_link').ifExists().execute();
  await db.schema.dropTable('identity_oidc_flow').ifExists().execute();
}

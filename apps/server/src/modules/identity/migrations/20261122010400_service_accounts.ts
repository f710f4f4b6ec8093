import type { Kysely } from 'kysely';

/** Service accounts: users that are programs, acting only through API keys an admin issues. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('identity_user').addColumn('kind', 'text', (c) => c.notNull().defaultTo('person')).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('identity_user').dropColumn('kind').execute();
}

import type { Kysely } from 'kysely';

/**
 * The recent profile writes, one row per data version (`directory_state.version`): the facet
 * columns of the profile before and after the write (JSON; null for a create or a delete). Each
 * node's search cache reads the rows since its own version and applies them to its cached counts
 * and pages instead of dropping them. Only the latest rows are kept (the repo prunes on each write).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('directory_change')
    .addColumn('version', 'bigint', (c) => c.primaryKey())
    .addColumn('before', 'text')
    .addColumn('after', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('directory_change').ifExists().execute();
}

import { sql, type Kysely } from 'kysely';

/**
 * Duplicate review and search caching: a dismissed pair stays (so it is never flagged again); merges
 * and dismissals are audited; `directory_state.version` is bumped in the transaction of every profile
 * write, so each node's search cache knows when its counts are stale. Indexes pair each filter column
 * with its visibility level, so a filter is checked in the index.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('directory_duplicate').addColumn('dismissed_at', 'text').execute();

  await db.schema
    .createTable('directory_review_audit')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('duplicate_id', 'text', (c) => c.notNull())
    .addColumn('kept_profile', 'text', (c) => c.notNull())
    .addColumn('removed_profile', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('directory_state')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into directory_state (name, version) values ('data', 1)`.execute(db);

  for (const column of ['program', 'department', 'industry', 'country']) {
    await db.schema.dropIndex(`directory_profile_${column}`).execute();
    await db.schema.createIndex(`directory_profile_${column}_vis`).on('directory_profile').columns([column, `vis_${column}`]).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['program', 'department', 'industry', 'country']) {
    await db.schema.dropIndex(`directory_profile_${column}_vis`).execute();
    await db.schema.createIndex(`directory_profile_${column}`).on('directory_profile').column(column).execute();
  }
  await db.schema.dropTable('directory_state').execute();
  await db.schema.dropTable('directory_review_audit').execute();
  await db.schema.alterTable('directory_duplicate').dropColumn('dismissed_at').execute();
}

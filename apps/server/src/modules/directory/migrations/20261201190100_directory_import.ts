import type { Kysely } from 'kysely';

/**
 * CSV imports: the uploaded file (read by the import job), the import's progress, the rows that
 * failed and why, and the likely duplicates it found (pairs of profiles, for an admin to review).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('directory_import')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('columns', 'text', (c) => c.notNull())
    .addColumn('total_rows', 'integer')
    .addColumn('processed_rows', 'integer', (c) => c.notNull())
    .addColumn('created_count', 'integer', (c) => c.notNull())
    .addColumn('updated_count', 'integer', (c) => c.notNull())
    .addColumn('failed_count', 'integer', (c) => c.notNull())
    .addColumn('duplicate_count', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();

  await db.schema
    .createTable('directory_import_source')
    .addColumn('import_id', 'text', (c) => c.primaryKey().references('directory_import.id').onDelete('cascade'))
    .addColumn('content', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('directory_import_error')
    .addColumn('import_id', 'text', (c) => c.notNull().references('directory_import.id').onDelete('cascade'))
    .addColumn('row_number', 'integer', (c) => c.notNull())
    .addColumn('errors', 'text', (c) => c.notNull())
    .addColumn('record', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('directory_import_error_pk', ['import_id', 'row_number'])
    .execute();

  await db.schema
    .createTable('directory_duplicate')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('profile_a', 'text', (c) => c.notNull().references('directory_profile.id').onDelete('cascade'))
    .addColumn('profile_b', 'text', (c) => c.notNull().references('directory_profile.id').onDelete('cascade'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('import_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('directory_duplicate_pair', ['profile_a', 'profile_b'])
    .execute();
  await db.schema.createIndex('directory_duplicate_b').on('directory_duplicate').column('profile_b').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['directory_duplicate', 'directory_import_error', 'directory_import_source', 'directory_import']) await db.schema.dropTable(table).ifExists().execute();
}

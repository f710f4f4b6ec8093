import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../../../core/db/portable.js';

/**
 * Alumni profiles (linked to an account or imported without one), their skills (one row each, for
 * facets), and the audit of exports. Full text: per viewer class, a text column holding only what
 * that class may see; SQLite indexes them in an FTS5 table keyed by `doc`, PostgreSQL in tsvector
 * expression indexes over the same columns.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('directory_profile')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.unique())
    .addColumn('external_id', 'text', (c) => c.unique())
    .addColumn('doc', 'bigint', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('graduation_year', 'integer')
    .addColumn('program', 'text')
    .addColumn('department', 'text')
    .addColumn('company', 'text')
    .addColumn('job_title', 'text')
    .addColumn('industry', 'text')
    .addColumn('city', 'text')
    .addColumn('country', 'text')
    .addColumn('skills', 'text', (c) => c.notNull())
    .addColumn('bio', 'text')
    .addColumn('links', 'text', (c) => c.notNull())
    .addColumn('visibility', 'text', (c) => c.notNull())
    .addColumn('vis_graduation_year', 'integer', (c) => c.notNull())
    .addColumn('vis_program', 'integer', (c) => c.notNull())
    .addColumn('vis_department', 'integer', (c) => c.notNull())
    .addColumn('vis_industry', 'integer', (c) => c.notNull())
    .addColumn('vis_country', 'integer', (c) => c.notNull())
    .addColumn('vis_skills', 'integer', (c) => c.notNull())
    .addColumn('search_public', 'text', (c) => c.notNull())
    .addColumn('search_members', 'text', (c) => c.notNull())
    .addColumn('search_all', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('directory_profile_name').on('directory_profile').columns(['name_key', 'id']).execute();
  await db.schema.createIndex('directory_profile_year').on('directory_profile').columns(['graduation_year', 'id']).execute();
  for (const column of ['program', 'department', 'industry', 'country', 'email']) {
    await db.schema.createIndex(`directory_profile_${column}`).on('directory_profile').column(column).execute();
  }
  await db.schema.createIndex('directory_profile_name_year').on('directory_profile').columns(['name_key', 'graduation_year']).execute();

  await db.schema
    .createTable('directory_profile_skill')
    .addColumn('profile_id', 'text', (c) => c.notNull().references('directory_profile.id').onDelete('cascade'))
    .addColumn('skill', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('directory_profile_skill_pk', ['profile_id', 'skill'])
    .execute();
  await db.schema.createIndex('directory_profile_skill_skill').on('directory_profile_skill').columns(['skill', 'profile_id']).execute();

  await db.schema
    .createTable('directory_export_audit')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('rows', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('directory_export_audit_created').on('directory_export_audit').columns(['created_at', 'id']).execute();

  if (isPostgres(db)) {
    await sql`create sequence directory_profile_doc_seq`.execute(db);
    for (const column of ['search_public', 'search_members', 'search_all']) {
      await sql`create index ${sql.id(`directory_profile_${column}_tsv`)} on directory_profile using gin (to_tsvector('simple', ${sql.ref(column)}))`.execute(db);
    }
  } else {
    await sql`create virtual table directory_profile_fts using fts5(search_public, search_members, search_all, tokenize = 'unicode61 remove_diacritics 0')`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) await sql`drop sequence if exists directory_profile_doc_seq`.execute(db);
  else await sql`drop table if exists directory_profile_fts`.execute(db);
  await db.schema.dropTable('directory_export_audit').ifExists().execute();
  await db.schema.dropTable('directory_profile_skill').ifExists().execute();
  await db.schema.dropTable('directory_profile').ifExists().execute();
}

import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../../../core/db/portable.js';

const SCALAR_FACETS = [
  ['graduationYear', 'graduation_year'],
  ['program', 'program'],
  ['department', 'department'],
  ['industry', 'industry'],
  ['country', 'country'],
] as const;

/**
 * Maintained facet counts, so an unfiltered search never recounts the directory: per facet, value
 * and viewer level (0 public, 1 members, 2 all), how many profiles that viewer sees with the value.
 * A value counts at its field's visibility level and above, never below. Values are compared by
 * code point on both databases (collation "C" on PostgreSQL), as the counts computed in the server.
 * Backfilled here from the profiles; the directory's repo keeps them exact on every write.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('directory_facet_count')
    .addColumn('facet', 'text', (c) => c.notNull())
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('value', isPostgres(db) ? sql`text collate "C"` : 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('directory_facet_count_pk', ['facet', 'level', 'value'])
    .execute();
  // The top values of one facet for one level, most frequent first.
  await db.schema.createIndex('directory_facet_count_top').on('directory_facet_count').columns(['facet', 'level', 'count desc', 'value']).execute();

  for (const level of [0, 1, 2]) {
    for (const [facet, column] of SCALAR_FACETS) {
      await sql`
        insert into directory_facet_count (facet, level, value, count)
        select ${sql.lit(facet)}, ${sql.lit(level)}, cast(${sql.ref(column)} as text), count(*) from directory_profile
        where ${sql.ref(column)} is not null and ${sql.ref(`vis_${column}`)} <= ${sql.lit(level)}
        group by ${sql.ref(column)}`.execute(db);
    }
    await sql`
      insert into directory_facet_count (facet, level, value, count)
      select 'skills', ${sql.lit(level)}, s.skill, count(*) from directory_profile_skill s join directory_profile p on p.id = s.profile_id
      where p.vis_skills <= ${sql.lit(level)}
      group by s.skill`.execute(db);
  }
  const { total } = await db.selectFrom('directory_profile').select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirstOrThrow();
  if (Number(total) > 0) {
    await db.insertInto('directory_facet_count').values([0, 1, 2].map((level) => ({ facet: 'total', level, value: '', count: Number(total) }))).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('directory_facet_count').ifExists().execute();
}

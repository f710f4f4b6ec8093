import type { Kysely } from 'kysely';
import { isPostgres } from '../../../core/db/portable.js';

/** The columns the filters' covering indexes carried before (20261205200000_directory_facet_covering.ts). */
const FACET_COLUMNS = [
  'graduation_year', 'vis_graduation_year', 'program', 'vis_program', 'department', 'vis_department', 'industry', 'vis_industry', 'country', 'vis_country', 'skills', 'vis_skills',
];
const FILTERS = ['program', 'department', 'industry', 'country'];

const columnsOf = (column: string, page: boolean) => [column, `vis_${column}`, ...FACET_COLUMNS.filter((c) => c !== column && c !== `vis_${column}`), ...(page ? ['name_key', 'id'] : [])];

async function rebuild(db: Kysely<any>, page: boolean): Promise<void> {
  for (const column of FILTERS) {
    await db.schema.dropIndex(`directory_profile_${column}_facets`).execute();
    await db.schema.createIndex(`directory_profile_${column}_facets`).on('directory_profile').columns(columnsOf(column, page)).execute();
  }
}

/**
 * A filtered search's page (the first page of a filter blocks SQLite's event loop while it is read)
 * picks its rows inside the filter's covering index when the index also carries the sort keys and
 * the id: the filters, the name or year order and the id are all in the index, and only the page's
 * rows are read from the table (two facets at 100,000 profiles: ~4 → ~1.4 ms). SQLite only: on
 * PostgreSQL an index entry may hold ~2.7 kB, which the longest allowed facet values already nearly
 * fill, and its indexes leave out `skills` and so read the rows anyway.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) await rebuild(db, true);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) await rebuild(db, false);
}

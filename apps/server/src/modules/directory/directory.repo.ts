import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import { FACET_COLUMNS, FACET_SCALARS, facetCountChanges, tallyFrom, type CountedRow, type FacetCountChange, type FacetRow, type Tally } from './directory.facets.js';
import { FACETS } from './directory.schemas.js';
import type { DirectoryTables, DuplicateRow, ExportAuditRow, ImportErrorRow, ImportRow, ProfileRow, ReviewAuditRow, VisibilityLevel } from './directory.tables.js';

type Executor = Kysely<DirectoryTables>;
export type DialectName = 'sqlite' | 'postgres';

/** What a search or a list narrows the directory to; every condition honours the viewer's level. */
export interface ProfileFilter {
  /** What the viewer may see: 0 public, 1 members, 2 everything. */
  level: VisibilityLevel;
  /** Normalised words (letters and digits only), all of which must match. */
  words?: string[];
  yearFrom?: number;
  yearTo?: number;
  program?: string;
  department?: string;
  industry?: string;
  country?: string;
  skills?: string[];
}

/** The facet columns of every profile, read with the data version they are the state of. */
export interface FacetSnapshot {
  version: number;
  rows: FacetRow[];
}

export type SortKey = 'name' | 'graduationYear';

export interface SortSpec {
  key: SortKey;
  descending: boolean;
  /** Keyset: the sort value and id of the last row of the previous page. */
  after?: [string | number, string];
}

/** Profile writes kept in directory_change: a node whose cache is further behind empties it. */
const KEPT_CHANGES = 1000;

/** One profile write as the search caches see it: its facet columns before and after (null: created, deleted). */
export interface ProfileChange {
  before: FacetRow | null;
  after: FacetRow | null;
}

const SEARCH_COLUMN = ['search_public', 'search_members', 'search_all'] as const;

const EXPORT_COLUMNS = [
  'id', 'user_id', 'external_id', 'name', 'email', 'graduation_year', 'program', 'department', 'company', 'job_title', 'industry', 'city', 'country',
  'skills', 'bio', 'links', 'visibility', 'version', 'created_at', 'updated_at',
] as const;
/** The columns a profile view is made of. */
export type ExportRow = Pick<ProfileRow, (typeof EXPORT_COLUMNS)[number]>;

/** The text column a viewer of `level` may be found by. */
export const searchColumn = (level: VisibilityLevel) => SEARCH_COLUMN[level];

/** The graduation year as the viewer may see it: hidden and absent both sort as 0. */
const visibleYear = (level: VisibilityLevel) => sql<number>`(case when p.vis_graduation_year <= ${level} then coalesce(p.graduation_year, 0) else 0 end)`;

/** Each exact-value filter's column and the visibility level column that guards it. */
export const FILTER_COLUMNS = {
  program: ['program', 'vis_program'],
  department: ['department', 'vis_department'],
  industry: ['industry', 'vis_industry'],
  country: ['country', 'vis_country'],
} as const;

/** Kysely queries on the directory_* tables only. `directoryRepo(tx, dialect)` binds them to a transaction. */
export function directoryRepo(handle: Db | Tx, dialect: DialectName) {
  const db = handle as unknown as Executor;

  /** The WHERE conditions of a filter, on `directory_profile as p`. */
  function conditions(filter: ProfileFilter): RawBuilder<SqlBool>[] {
    const level = filter.level;
    const where: RawBuilder<SqlBool>[] = [];
    if (filter.words?.length) {
      const column = searchColumn(level);
      if (dialect === 'postgres') {
        where.push(sql<SqlBool>`to_tsvector('simple', ${sql.ref(`p.${column}`)}) @@ plainto_tsquery('simple', ${filter.words.join(' ')})`);
      } else {
        // Words hold letters and digits only; each is still quoted as an FTS5 string, in the viewer's column.
        const match = filter.words.map((w) => `${column} : "${w.replace(/"/g, '""')}"`).join(' AND ');
        where.push(sql<SqlBool>`p.doc in (select rowid from directory_profile_fts where directory_profile_fts match ${match})`);
      }
    }
    if (filter.yearFrom !== undefined) where.push(sql<SqlBool>`(p.graduation_year >= ${filter.yearFrom} and p.vis_graduation_year <= ${level})`);
    if (filter.yearTo !== undefined) where.push(sql<SqlBool>`(p.graduation_year <= ${filter.yearTo} and p.vis_graduation_year <= ${level})`);
    for (const facet of ['program', 'department', 'industry', 'country'] as const) {
      const value = filter[facet];
      if (value === undefined) continue;
      const [column, vis] = FILTER_COLUMNS[facet];
      where.push(sql<SqlBool>`(${sql.ref(`p.${column}`)} = ${value} and ${sql.ref(`p.${vis}`)} <= ${level})`);
    }
    for (const skill of filter.skills ?? []) {
      where.push(sql<SqlBool>`(p.vis_skills <= ${level} and exists (select 1 from directory_profile_skill s where s.profile_id = p.id and s.skill = ${skill}))`);
    }
    return where;
  }

  const whereAll = (filter: ProfileFilter): Expression<SqlBool> => {
    const parts = conditions(filter);
    return parts.length ? sql<SqlBool>`${sql.join(parts, sql` and `)}` : sql<SqlBool>`1 = 1`;
  };

  return {
    async nextDoc(): Promise<number> {
      if (dialect === 'postgres') {
        const { rows } = await sql<{ n: string }>`select nextval('directory_profile_doc_seq') as n`.execute(db);
        return Number(rows[0]!.n);
      }
      const { rows } = await sql<{ n: number }>`select coalesce(max(doc), 0) + 1 as n from directory_profile`.execute(db);
      return Number(rows[0]!.n);
    },

    findById: (id: string) => db.selectFrom('directory_profile').selectAll().where('id', '=', id).executeTakeFirst(),
    findByUser: (userId: string) => db.selectFrom('directory_profile').selectAll().where('user_id', '=', userId).executeTakeFirst(),
    findByExternalId: (externalId: string) => db.selectFrom('directory_profile').selectAll().where('external_id', '=', externalId).executeTakeFirst(),

    /** The directory's data version: bumped by every profile write, in its transaction. */
    async dataVersion(): Promise<number> {
      const row = await db.selectFrom('directory_state').select('version').where('name', '=', 'data').executeTakeFirstOrThrow();
      return Number(row.version);
    },
    /**
     * Moves the data version on; returns the new one (the version of this write). Every profile
     * write does this first: its row lock orders the directory's writers, so that on PostgreSQL they
     * never lock a profile and the version row in opposite orders (a deadlock).
     */
    async bumpVersion(): Promise<number> {
      const row = await db.updateTable('directory_state').set((eb) => ({ version: eb('version', '+', 1) })).where('name', '=', 'data').returning('version').executeTakeFirstOrThrow();
      return Number(row.version);
    },

    /**
     * Records what the write of `version` did to a profile (its facet columns before and after), for
     * the search caches of every node, and forgets the records too old for any cache to need.
     */
    async logChange(version: number, before: FacetRow | null, after: FacetRow | null): Promise<void> {
      const facetColumns = (row: FacetRow | null) => (row ? JSON.stringify(Object.fromEntries(FACET_COLUMNS.map((c) => [c, row[c]]))) : null);
      await db.insertInto('directory_change').values({ version, before: facetColumns(before), after: facetColumns(after) }).execute();
      await db.deleteFrom('directory_change').where('version', '<=', version - KEPT_CHANGES).execute();
    },

    /**
     * The profile writes after version `from` up to `to`, in order; undefined when some are no longer
     * kept (or were never recorded), so a cache that far behind starts over.
     */
    async changesSince(from: number, to: number): Promise<ProfileChange[] | undefined> {
      if (to - from > KEPT_CHANGES) return undefined;
      const rows = await db.selectFrom('directory_change').select(['before', 'after']).where('version', '>', from).where('version', '<=', to).orderBy('version').execute();
      if (rows.length !== to - from) return undefined;
      return rows.map((r) => ({ before: r.before === null ? null : (JSON.parse(r.before) as FacetRow), after: r.after === null ? null : (JSON.parse(r.after) as FacetRow) }));
    },

    /**
     * Every profile's facet columns with the data version they are the state of, read in one
     * transaction (on PostgreSQL a repeatable-read snapshot; SQLite's one connection runs nothing else meanwhile).
     */
    facetSnapshot(): Promise<FacetSnapshot> {
      const read = async (tx: Executor) => {
        const version = await directoryRepo(tx as unknown as Tx, dialect).dataVersion();
        return { version, rows: await tx.selectFrom('directory_profile').select(FACET_COLUMNS).execute() };
      };
      const transaction = db.transaction();
      return (dialect === 'postgres' ? transaction.setIsolationLevel('repeatable read') : transaction).execute(read);
    },

    async insert(row: ProfileRow, skills: string[]): Promise<void> {
      const version = await this.bumpVersion();
      await db.insertInto('directory_profile').values(row).execute();
      await this.replaceSkills(row.id, skills);
      await this.index(row);
      await this.changeFacetCounts(facetCountChanges(null, row));
      await this.logChange(version, null, row);
    },

    /**
     * Updates `previous` (when its version is still current) to `row`; returns false when it was not,
     * and the caller must then roll back (the data version has moved).
     */
    async update(row: ProfileRow, previous: ProfileRow, skills: string[]): Promise<boolean> {
      const { id, ...changes } = row;
      const version = await this.bumpVersion();
      const result = await db.updateTable('directory_profile').set(changes).where('id', '=', id).where('version', '=', previous.version).executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await this.replaceSkills(id, skills);
      await this.index(row);
      // Every write bumps the version, so the row just replaced is exactly `previous`.
      await this.changeFacetCounts(facetCountChanges(previous, row));
      await this.logChange(version, previous, row);
      return true;
    },

    async delete(row: ProfileRow): Promise<void> {
      const version = await this.bumpVersion();
      await db.deleteFrom('directory_profile_skill').where('profile_id', '=', row.id).execute();
      if (dialect === 'sqlite') await sql`delete from directory_profile_fts where rowid = ${row.doc}`.execute(db);
      // The counts come off with the values actually deleted (the row may have changed since it was read).
      const deleted = await db.deleteFrom('directory_profile').where('id', '=', row.id).returning(FACET_COLUMNS).executeTakeFirst();
      if (deleted) await this.changeFacetCounts(facetCountChanges(deleted, null));
      await this.logChange(version, deleted ?? null, null);
    },

    /** Applies a write's changes to the maintained facet counts (x = x + n), dropping the counts that reach zero. */
    async changeFacetCounts(changes: FacetCountChange[]): Promise<void> {
      if (!changes.length) return;
      await db
        .insertInto('directory_facet_count')
        .values(changes.map(({ facet, level, value, delta }) => ({ facet, level, value, count: delta })))
        .onConflict((oc) => oc.columns(['facet', 'level', 'value']).doUpdateSet((eb) => ({ count: eb('directory_facet_count.count', '+', eb.ref('excluded.count')) })))
        .execute();
      const lowered = changes.filter((c) => c.delta < 0);
      if (!lowered.length) return;
      await db
        .deleteFrom('directory_facet_count')
        .where('count', '=', 0)
        .where((eb) => eb.or(lowered.map((c) => eb.and([eb('facet', '=', c.facet), eb('level', '=', c.level), eb('value', '=', c.value)]))))
        .execute();
    },

    /** The total and the `limit` most frequent values of each facet for viewers of `level`, from the maintained counts. */
    async facetCounts(level: VisibilityLevel, limit: number): Promise<Array<{ facet: string; value: string; count: number }>> {
      const topOf = (facet: string) => sql`select * from (select facet, value, count from directory_facet_count where facet = ${facet} and level = ${level} order by count desc, value limit ${limit}) ${sql.id(`top_${facet}`)}`;
      const { rows } = await sql<{ facet: string; value: string; count: number }>`
        select facet, value, count from directory_facet_count where facet = 'total' and level = ${level}
        union all ${sql.join(FACETS.map(topOf), sql` union all `)}`.execute(db);
      return rows;
    },

    async replaceSkills(profileId: string, skills: string[]): Promise<void> {
      await db.deleteFrom('directory_profile_skill').where('profile_id', '=', profileId).execute();
      if (skills.length) await db.insertInto('directory_profile_skill').values(skills.map((skill) => ({ profile_id: profileId, skill }))).execute();
    },

    /** SQLite keeps the searchable text in FTS5 (PostgreSQL indexes the columns themselves). */
    async index(row: ProfileRow): Promise<void> {
      if (dialect !== 'sqlite') return;
      await sql`delete from directory_profile_fts where rowid = ${row.doc}`.execute(db);
      await sql`insert into directory_profile_fts (rowid, search_public, search_members, search_all) values (${row.doc}, ${row.search_public}, ${row.search_members}, ${row.search_all})`.execute(db);
    },

    /**
     * One page in sort order (limit rows; ask for one more to know whether another page exists).
     * `walkNameOrder` (SQLite, name order, no words): the caller expects the
     * filter to match often enough that walking the name order meets the page's rows within a few
     * thousand index entries, so the ids are read in that order from the name index that carries the
     * filter columns, and the walk stops at the page's end; otherwise from the rarest filter's
     * covering index, whose every match is read and sorted.
     */
    async search(filter: ProfileFilter, sort: SortSpec, limit: number, walkNameOrder = false): Promise<Array<ExportRow & { sort_value: string | number }>> {
      const key = sort.key === 'name' ? sql<string | number>`p.name_key` : visibleYear(filter.level);
      const direction = sort.descending ? sql`desc` : sql`asc`;
      const where = [whereAll(filter)];
      if (sort.after) {
        const [value, id] = sort.after;
        // As a row value, so that a walk of the name index starts at the cursor.
        where.push(sql<SqlBool>`(${key}, p.id) ${sort.descending ? sql`<` : sql`>`} (${value}, ${id})`);
      }
      const byName = walkNameOrder && dialect === 'sqlite' && sort.key === 'name' && !filter.words?.length;
      // The page's ids first, then its rows: the ids can be picked inside a covering index (filters,
      // sort key, id), so that only the page's rows are read from the table, not every match's.
      const { rows } = await sql<ExportRow & { sort_value: string | number }>`
        select ${sql.join(EXPORT_COLUMNS.map((c) => sql.ref(`p.${c}`)))}, ${key} as sort_value from directory_profile p
        where p.id in (select p.id from directory_profile p ${byName ? sql`indexed by directory_profile_name_facets` : sql``}
          where ${sql.join(where, sql` and `)} order by ${key} ${direction}, p.id ${direction} limit ${limit})
        order by ${key} ${direction}, p.id ${direction}`.execute(db);
      return rows.map((r) => ({ ...r, sort_value: typeof r.sort_value === 'string' ? r.sort_value : Number(r.sort_value) }));
    },

    /**
     * The total and every value's count of each facet among the profiles matching `filter`, counted
     * in the database in one pass: the matching profiles' facet columns are read once (on SQLite
     * from a filter's covering index), then grouped per facet, a value counting only where the
     * viewer may see its field (the rules of directory.facets.ts's addToTally). Only the counts
     * come back, not a row per profile (turning ~2,500 rows into objects cost more than reading them).
     */
    async facetTally(filter: ProfileFilter): Promise<Tally> {
      const level = sql.lit(filter.level);
      const scalars = FACET_SCALARS.map(
        ([facet, column, vis]) =>
          sql`select ${sql.lit(facet)}, cast(${sql.ref(column)} as text), count(*) from matching where ${sql.ref(column)} is not null and ${sql.ref(vis)} <= ${level} group by ${sql.ref(column)}`,
      );
      const skill = dialect === 'postgres' ? sql`cross join lateral jsonb_array_elements_text(cast(matching.skills as jsonb)) as s(value)` : sql`join json_each(matching.skills) s`;
      const { rows } = await sql<CountedRow>`
        with matching as materialized (select ${sql.join(FACET_COLUMNS.map((c) => sql.ref(`p.${c}`)))} from directory_profile p where ${whereAll(filter)})
        select 'total' as facet, '' as value, count(*) as count from matching
        union all ${sql.join(scalars, sql` union all `)}
        union all select 'skills', s.value, count(*) from matching ${skill} where matching.vis_skills <= ${level} group by s.value`.execute(db);
      return tallyFrom(rows);
    },

    /** Every profile in id order, a page at a time (exports). */
    exportPage: (afterId: string | null, limit: number): Promise<ExportRow[]> => {
      // Only what a view needs: the search texts are the widest columns.
      let query = db.selectFrom('directory_profile').select(EXPORT_COLUMNS).orderBy('id', 'asc').limit(limit);
      if (afterId) query = query.where('id', '>', afterId);
      return query.execute();
    },

    insertExportAudit: (row: ExportAuditRow) => db.insertInto('directory_export_audit').values(row).execute(),
    finishExportAudit: (id: string, rows: number) => db.updateTable('directory_export_audit').set({ rows }).where('id', '=', id).execute(),
    // ── imports ────────────────────────────────────────────────────────────
    async insertImport(row: ImportRow, content: string): Promise<void> {
      await db.insertInto('directory_import').values(row).execute();
      await db.insertInto('directory_import_source').values({ import_id: row.id, content }).execute();
    },
    findImport: (id: string) => db.selectFrom('directory_import').selectAll().where('id', '=', id).executeTakeFirst(),
    async importSource(id: string): Promise<string | undefined> {
      return (await db.selectFrom('directory_import_source').select('content').where('import_id', '=', id).executeTakeFirst())?.content;
    },
    updateImport: (id: string, changes: Partial<Omit<ImportRow, 'id'>>) => db.updateTable('directory_import').set(changes).where('id', '=', id).execute(),
    /** Adds a batch's counts to the import's (`x = x + n`: never lost to a concurrent writer). */
    addImportProgress: (id: string, processedRows: number, counts: { created: number; updated: number; failed: number; duplicates: number }, updatedAt: string) =>
      db
        .updateTable('directory_import')
        .set((eb) => ({
          processed_rows: processedRows,
          created_count: eb('created_count', '+', counts.created),
          updated_count: eb('updated_count', '+', counts.updated),
          failed_count: eb('failed_count', '+', counts.failed),
          duplicate_count: eb('duplicate_count', '+', counts.duplicates),
          updated_at: updatedAt,
        }))
        .where('id', '=', id)
        .execute(),
    insertImportError: (row: ImportErrorRow) => db.insertInto('directory_import_error').values(row).execute(),
    importErrors: (id: string, afterRow: number, limit: number) =>
      db.selectFrom('directory_import_error').selectAll().where('import_id', '=', id).where('row_number', '>', afterRow).orderBy('row_number').limit(limit).execute(),

    // ── likely duplicates ──────────────────────────────────────────────────
    /** Other profiles with the same email, or the same name and graduation year. */
    async likelyDuplicates(row: ProfileRow): Promise<Array<{ id: string; email: string | null }>> {
      if (!row.email && row.graduation_year === null) return [];
      const rows = await db
        .selectFrom('directory_profile')
        .select(['id', 'email'])
        .where('id', '!=', row.id)
        .where((eb) => {
          const alternatives = [];
          if (row.email) alternatives.push(eb('email', '=', row.email));
          if (row.graduation_year !== null) alternatives.push(eb.and([eb('name_key', '=', row.name_key), eb('graduation_year', '=', row.graduation_year)]));
          return eb.or(alternatives);
        })
        .orderBy('id')
        .limit(20)
        .execute();
      return rows;
    },
    async flagDuplicate(row: DuplicateRow): Promise<boolean> {
      const existing = await db.selectFrom('directory_duplicate').select('id').where('profile_a', '=', row.profile_a).where('profile_b', '=', row.profile_b).executeTakeFirst();
      if (existing) return false;
      await db.insertInto('directory_duplicate').values(row).execute();
      return true;
    },
    listDuplicates: (beforeId: string | undefined, limit: number) => {
      let query = db.selectFrom('directory_duplicate').selectAll().where('dismissed_at', 'is', null).orderBy('id', 'desc').limit(limit);
      if (beforeId) query = query.where('id', '<', beforeId);
      return query.execute();
    },
    findDuplicate: (id: string) => db.selectFrom('directory_duplicate').selectAll().where('id', '=', id).executeTakeFirst(),
    dismissDuplicate: (id: string, at: string) => db.updateTable('directory_duplicate').set({ dismissed_at: at }).where('id', '=', id).execute(),
    insertReviewAudit: (row: ReviewAuditRow) => db.insertInto('directory_review_audit').values(row).execute(),
    /** Unlinks a profile from a deleted account (the profile stays, owned by the directory admins). */
    async unlink(row: ProfileRow, updatedAt: string): Promise<void> {
      const version = await this.bumpVersion();
      await db.updateTable('directory_profile').set({ user_id: null, version: row.version + 1, updated_at: updatedAt }).where('id', '=', row.id).execute();
      // Its counts do not move, but cached pages that show it must go.
      await this.logChange(version, row, row);
    },
    findProfiles: (ids: string[]) => (ids.length ? db.selectFrom('directory_profile').selectAll().where('id', 'in', ids).execute() : Promise.resolve([])),

    listExportAudit: (limit: number) => db.selectFrom('directory_export_audit').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute(),
  };
}

export type DirectoryRepo = ReturnType<typeof directoryRepo>;

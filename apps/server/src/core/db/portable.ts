import { PostgresAdapter, sql, type ColumnDefinitionBuilder, type Kysely, type RawBuilder } from 'kysely';

/** Which dialect a migration runs on, for the few column definitions that differ. */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Arguments for `addColumn` that declare an ever-increasing 64-bit primary key:
 * `bigint generated always as identity` on PostgreSQL, `integer primary key autoincrement` on SQLite
 * (AUTOINCREMENT so that a deleted highest key is never reused: cursors stay valid).
 */
export function serialPrimaryKey(db: Kysely<any>): ['bigint' | 'integer', (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder] {
  return isPostgres(db)
    ? ['bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity()]
    : ['integer', (c) => c.primaryKey().autoIncrement()];
}

/**
 * Rows passed as one JSON value, read as a table `alias` with `columns` (name → SQL type): what a
 * statement about many rows at once joins (`update … from ${jsonRecords(…)} where …`), one bound
 * value however many rows. PostgreSQL reads them with jsonb_to_recordset, SQLite with json_each.
 */
export function jsonRecords(db: Kysely<any>, alias: string, rows: ReadonlyArray<Record<string, unknown>>, columns: Record<string, 'text' | 'integer'>): RawBuilder<unknown> {
  const json = JSON.stringify(rows);
  const names = Object.keys(columns);
  if (isPostgres(db)) {
    return sql`jsonb_to_recordset(cast(${json} as jsonb)) as ${sql.id(alias)}(${sql.join(names.map((name) => sql`${sql.id(name)} ${sql.raw(columns[name]!)}`))})`;
  }
  return sql`(select ${sql.join(names.map((name) => sql`j.value ->> ${sql.lit(name)} as ${sql.id(name)}`))} from json_each(${json}) j) as ${sql.id(alias)}`;
}

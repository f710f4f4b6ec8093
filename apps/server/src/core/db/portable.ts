import { PostgresAdapter, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

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

/**
 * Rows per multi-row statement (or ids per `in (…)`): 500 rows of up to ~60 columns stay below both
 * dialects' limits on bound parameters (SQLite 32,766, PostgreSQL 65,535).
 */
const ROWS_PER_STATEMENT = 500;

/** Splits rows (or ids for `in (…)`) into parts of one statement each. */
export function inParts<T>(items: readonly T[]): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += ROWS_PER_STATEMENT) parts.push(items.slice(i, i + ROWS_PER_STATEMENT));
  return parts;
}

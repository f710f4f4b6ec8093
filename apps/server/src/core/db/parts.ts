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

/** The largest part `inCompiledParts` makes: the largest power of two within ROWS_PER_STATEMENT. */
const LARGEST_COMPILED_PART = 256;

/**
 * Splits rows (or ids) for statements compiled once per row count (`perCount`), into parts whose
 * sizes are powers of two, largest first: 300 rows are 256 + 32 + 8 + 4. Such a statement is then
 * compiled and prepared for at most nine counts, not for every count a batch may have: a connection
 * keeps each prepared statement, and SQLite's for every count from 1 to 500 rows of 15 columns
 * took 170 MiB.
 */
export function inCompiledParts<T>(items: readonly T[]): T[][] {
  const parts: T[][] = [];
  let size = LARGEST_COMPILED_PART;
  for (let i = 0; i < items.length; i += size) {
    while (size > items.length - i) size >>= 1;
    parts.push(items.slice(i, i + size));
  }
  return parts;
}

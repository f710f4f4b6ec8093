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
/** Fewer rows than this are one statement compiled for their exact count: a small write stays one statement. */
const EXACT_BELOW = 32;

/**
 * Splits rows (or ids) for statements compiled once per row count (`perCount`): parts whose sizes
 * are powers of two from 32 to 256, largest first, then the fewer than 32 left as one part: 300
 * rows are 256 + 32 + 12, 20 rows one part. Such a statement is then compiled and prepared for at
 * most 35 counts, not for every count a batch may have: a connection keeps each prepared statement,
 * and SQLite's for every count from 1 to 500 rows of 15 columns took 170 MiB.
 */
export function inCompiledParts<T>(items: readonly T[]): T[][] {
  const parts: T[][] = [];
  let size = LARGEST_COMPILED_PART;
  let i = 0;
  for (; items.length - i >= EXACT_BELOW; i += size) {
    while (size > items.length - i) size >>= 1;
    parts.push(items.slice(i, i + size));
  }
  if (i < items.length) parts.push(items.slice(i));
  return parts;
}

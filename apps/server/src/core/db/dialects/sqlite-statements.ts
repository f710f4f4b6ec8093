import type SqliteDatabase from 'better-sqlite3';

/** Where statements come from: the connection's statement cache. */
export interface StatementSource {
  prepare(sql: string): SqliteDatabase.Statement;
}

const STATEMENT_CACHE_SIZE = 500;

interface Entry {
  statement: SqliteDatabase.Statement;
  /** Hit since it was cached or since the cache's last sweep. */
  used: boolean;
}

/**
 * Kysely prepares a statement for every query; preparing costs more than running a primary-key
 * read. Statements are cached by SQL text. A hit only marks its entry: when the cache is full, the
 * oldest entry not used since the last sweep goes, and used ones move to the back with the mark
 * cleared (second chance), so that a hit does no map reordering. A statement still being iterated
 * by a stream is busy, so the caller gets a fresh one instead.
 */
export function withStatementCache(handle: SqliteDatabase.Database, size = STATEMENT_CACHE_SIZE): StatementSource {
  const cache = new Map<string, Entry>();
  const evictOne = () => {
    for (const [sql, entry] of cache) {
      cache.delete(sql);
      if (!entry.used) return;
      entry.used = false;
      cache.set(sql, entry);
    }
  };
  return {
    prepare(sql) {
      const cached = cache.get(sql);
      if (cached && !cached.statement.busy) {
        cached.used = true;
        return cached.statement;
      }
      const statement = handle.prepare(sql);
      if (!cached) {
        if (cache.size >= size) evictOne();
        cache.set(sql, { statement, used: false });
      }
      return statement;
    },
  };
}

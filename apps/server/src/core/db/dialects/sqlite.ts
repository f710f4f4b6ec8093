import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { SqliteDialect } from 'kysely';
import { DbError, type DbErrorKind } from '../errors.js';
import type { DialectHelpers } from './dialect.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { GroupCommitSqliteDriver } from './sqlite-driver.js';
import { withStatementCache } from './sqlite-statements.js';
import { WalSync } from './sqlite-wal-sync.js';

export interface SqliteOptions {
  file: string;
  synchronous: 'FULL' | 'NORMAL';
  busyTimeoutMs: number;
  /** Page cache in MiB; SQLite's default (2 MiB) when not given. */
  cacheMb?: number;
  /** Where temporary data lives (SQLITE_TEMP_STORE); memory when not given. */
  tempStore?: 'MEMORY' | 'FILE';
}

/**
 * Opens the one SQLite connection of this process. Our driver (sqlite-driver.ts) serialises every
 * query and transaction on it, which gives us the single writer that SQLite wants, and lets
 * concurrent transactions share a commit; WAL lets a backup or the CLI read concurrently from another
 * process. A file database gets a checkpointer thread (sqlite-checkpointer.ts), and with FULL its
 * commits are synced off the event loop's thread (sqlite-wal-sync.ts): the connection itself runs
 * with NORMAL. `walSync` is a parameter for tests, which hold syncs back to watch who waits for them.
 */
export function openSqlite(
  o: SqliteOptions,
  walSync = o.synchronous === 'FULL' && o.file !== ':memory:' ? new WalSync(`${o.file}-wal`) : undefined,
): {
  dialect: SqliteDialect;
  handle: SqliteDatabase.Database;
  /** Runs a prepared read at once when the connection is free (GroupCommitSqliteDriver.read). */
  readNow: GroupCommitSqliteDriver['read'];
} {
  if (o.file !== ':memory:') mkdirSync(path.dirname(o.file), { recursive: true, mode: 0o700 });
  const handle = new SqliteDatabase(o.file);
  handle.pragma('journal_mode = WAL');
  handle.pragma(`busy_timeout = ${o.busyTimeoutMs}`);
  handle.pragma('foreign_keys = ON');
  handle.pragma(`synchronous = ${walSync ? 'NORMAL' : o.synchronous}`);
  // A negative cache_size is in KiB.
  if (o.cacheMb) handle.pragma(`cache_size = -${o.cacheMb * 1024}`);
  // Each transaction of a batch is a savepoint, whose journal of the pages it changed spills to a
  // temporary file past 64 KiB (16 pages): then every page it changes costs a system call. In
  // memory, the journal costs a copy of the page (temporary tables and sorts live in memory too).
  handle.pragma(`temp_store = ${o.tempStore ?? 'MEMORY'}`);
  const checkpointer = o.file === ':memory:' ? undefined : startCheckpointer(handle, { synchronous: o.synchronous, busyTimeoutMs: o.busyTimeoutMs });
  const driver = new GroupCommitSqliteDriver(handle, withStatementCache(handle), { checkpointer, walSync });
  const dialect = new (class extends SqliteDialect {
    override createDriver() {
      return driver;
    }
  })({ database: handle });
  return { dialect, handle, readNow: (sql, parameters) => driver.read(sql, parameters) };
}

const sqliteCodes: Record<string, DbErrorKind> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key',
  SQLITE_CONSTRAINT_NOTNULL: 'not_null',
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_BUSY: 'busy',
  SQLITE_BUSY_SNAPSHOT: 'serialization',
  SQLITE_LOCKED: 'busy',
};

const locks = new Map<string, Promise<unknown>>();

export const sqliteHelpers: DialectHelpers = {
  name: 'sqlite',
  skipLocked: false,
  mapError(err) {
    const code = (err as { code?: unknown })?.code;
    if (typeof code !== 'string' || !(code in sqliteCodes)) return undefined;
    const message = (err as Error).message;
    // "UNIQUE constraint failed: users.email" → "users.email"
    const constraint = /constraint failed: (.+)$/.exec(message)?.[1];
    return new DbError(sqliteCodes[code]!, message, constraint, { cause: err });
  },
  // One connection per process: transactions are already serialised, so commit order is seq order.
  async lockEventAppend() {},
  async notifyOnCommit() {},
  // Embedded mode is one process; an in-process queue per key is the lock.
  async withGlobalLock(_db, key, fn) {
    const previous = locks.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(fn);
    locks.set(key, run);
    try {
      return await run;
    } finally {
      if (locks.get(key) === run) locks.delete(key);
    }
  },
};

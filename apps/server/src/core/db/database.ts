import { Kysely, type Transaction } from 'kysely';
import type { DatabaseConfig } from '../config/config.js';
import type { DialectHelpers } from './dialects/dialect.js';
import { listenPostgres, openPostgres, postgresHelpers } from './dialects/postgres.js';
import { openSqlite, sqliteHelpers } from './dialects/sqlite.js';
import { withErrorMapping } from './error-mapping-dialect.js';
import { compileRead, type PreparedRead, type ReadBuilder } from './prepared-read.js';

/** Modules type their own tables; core hands out an untyped handle that each repo narrows. */
export type Db = Kysely<any>;
export type Tx = Transaction<any>;

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface Database {
  db: Db;
  dialect: DialectHelpers;
  poolStats(): PoolStats;
  /**
   * A hot read compiled once (see prepared-read.ts), outside any transaction. On SQLite it runs at
   * once as a prepared statement when the connection is free and no write awaits its commit (the
   * reads of one event-loop turn share a read transaction), else it waits its turn like any query.
   * The statement is prepared on first use, so a read may be declared before migrations have run.
   */
  prepareRead<Args extends unknown[], Row>(build: ReadBuilder<Args, Row>): PreparedRead<Args, Row>;
  /**
   * PostgreSQL LISTEN on a dedicated connection: `onNotify` runs for every NOTIFY on `channel`.
   * Undefined on SQLite, where every writer is in this process. Returns a function that stops it.
   */
  listen?: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>;
  /** SQLite online backup to a file; undefined on PostgreSQL (use pg_dump). */
  backup?: (destination: string) => Promise<void>;
  close(): Promise<void>;
}

export function createDatabase(config: DatabaseConfig): Database {
  if (config.kind === 'sqlite') {
    const { dialect, handle, readNow } = openSqlite(config);
    const db = new Kysely<any>({ dialect: withErrorMapping(dialect, sqliteHelpers.mapError) });
    return {
      db,
      dialect: sqliteHelpers,
      poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
      prepareRead<Args extends unknown[], Row>(build: ReadBuilder<Args, Row>): PreparedRead<Args, Row> {
        const read = compileRead(db, build);
        return (...args) => {
          let now: Promise<unknown[]> | undefined;
          try {
            now = readNow(read.sql, read.parameters(args));
          } catch (err) {
            return Promise.reject(sqliteHelpers.mapError(err) ?? err);
          }
          return (now as Promise<Row[]> | undefined) ?? db.executeQuery<Row>(read.query(args)).then((result) => result.rows);
        };
      },
      backup: async (destination) => {
        await handle.backup(destination);
      },
      close: () => db.destroy(),
    };
  }
  const { dialect, pool } = openPostgres(config.url, config.poolMax, config.timeoutMs);
  const db = new Kysely<any>({ dialect: withErrorMapping(dialect, postgresHelpers.mapError) });
  return {
    db,
    dialect: postgresHelpers,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    prepareRead<Args extends unknown[], Row>(build: ReadBuilder<Args, Row>): PreparedRead<Args, Row> {
      const read = compileRead(db, build);
      return async (...args) => (await db.executeQuery<Row>(read.query(args))).rows;
    },
    listen: (channel, onNotify) => listenPostgres(config.url, channel, onNotify),
    close: () => db.destroy(),
  };
}

import { PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { DbError, type DbErrorKind } from '../errors.js';
import type { DialectHelpers } from './dialect.js';

const INT8_OID = 20;

/** Errors that mean "the database did not answer in time or went away", whatever their shape. */
const UNAVAILABLE = /Query read timeout|timeout exceeded when trying to connect|Connection terminated|ECONNREFUSED|ECONNRESET|EPIPE/;

/**
 * A pg pool whose bigint columns come back as numbers (our ids and sequences stay far below 2^53),
 * and that fails fast when the database stalls: a query or a wait for a connection longer than
 * `timeoutMs` fails, and a connection whose query timed out is destroyed rather than reused (its
 * late reply, or a transaction it left open, must never reach the next request).
 */
export function openPostgres(url: string, max: number, timeoutMs: number): { dialect: PostgresDialect; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const failFastPool = {
    async connect() {
      const client = await pool.connect();
      let broken: Error | undefined;
      return {
        query: (async (...args: Parameters<pg.PoolClient['query']>) => {
          try {
            return await (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
          } catch (err) {
            if (err instanceof Error && UNAVAILABLE.test(err.message)) broken = err;
            throw err;
          }
        }) as pg.PoolClient['query'],
        // Released with an error, pg-pool destroys the client instead of handing it out again.
        release: () => client.release(broken),
      };
    },
    end: () => pool.end(),
  };
  return { dialect: new PostgresDialect({ pool: failFastPool as unknown as pg.Pool }), pool };
}

const pgCodes: Record<string, DbErrorKind> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23502': 'not_null',
  '23514': 'check',
  '40001': 'serialization',
  '40P01': 'serialization',
  '55P03': 'busy',
  // The server is shutting down, starting, or out of connection slots; a statement was cancelled.
  '57P01': 'unavailable',
  '57P03': 'unavailable',
  '53300': 'unavailable',
  '57014': 'unavailable',
  // Text PostgreSQL cannot store (NUL characters, invalid encodings).
  '22021': 'invalid_text',
  '22P05': 'invalid_text',
};

/** Stable 32-bit keys for advisory locks, derived from readable names. */
function lockKey(name: string): number {
  let h = 0;
  for (const ch of `lyceum:${name}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
}

export const postgresHelpers: DialectHelpers = {
  name: 'postgres',
  skipLocked: true,
  mapError(err) {
    const e = err as { code?: unknown; constraint?: string; message?: string };
    if (typeof e?.message === 'string' && UNAVAILABLE.test(e.message)) return new DbError('unavailable', e.message, undefined, { cause: err });
    if (typeof e?.code !== 'string' || !(e.code in pgCodes)) return undefined;
    return new DbError(pgCodes[e.code]!, e.message ?? 'database error', e.constraint, { cause: err });
  },
  async lockEventAppend(tx) {
    // Held until commit: appends are serialised, so a reader never sees seq N+1 before seq N commits.
    await sql`select pg_advisory_xact_lock(${lockKey('event-append')})`.execute(tx);
  },
  async notifyOnCommit(tx, channel) {
    // NOTIFY is delivered only if and when the transaction commits.
    await sql`select pg_notify(${channel}, '')`.execute(tx);
  },
  async withGlobalLock(db, key, fn) {
    return db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(${lockKey(key)})`.execute(conn);
      try {
        return await fn();
      } finally {
        await sql`select pg_advisory_unlock(${lockKey(key)})`.execute(conn);
      }
    });
  },
};

const LISTEN_RETRY_MIN_MS = 250;
const LISTEN_RETRY_MAX_MS = 10_000;

/** Lets go of a client without ever leaving it unable to report a late socket error (which would crash). */
function discardClient(client: pg.Client): Promise<void> {
  client.removeAllListeners();
  client.on('error', () => undefined);
  return client.end().catch(() => undefined);
}

/**
 * LISTEN on a connection of its own (a pooled one would be handed to other queries), which
 * reconnects with backoff when it drops. Callers keep a poll as a safety net for notifications
 * missed while it was down. Rejects if the first connection fails; returns a function that stops it.
 */
export async function listenPostgres(url: string, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let closed = false;
  let retryMs = LISTEN_RETRY_MIN_MS;
  let retryTimer: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    // keepAlive: a connection dropped silently (NAT, failover) surfaces as an error, not as silence.
    const next = new pg.Client({ connectionString: url, keepAlive: true });
    client = next;
    next.on('notification', () => onNotify());
    next.on('error', reconnect);
    next.on('end', reconnect);
    await next.connect();
    await next.query(`LISTEN ${next.escapeIdentifier(channel)}`);
    retryMs = LISTEN_RETRY_MIN_MS;
    onNotify(); // catch up on anything committed while we were not listening
  }

  function reconnect(): void {
    if (closed || retryTimer) return;
    if (client) void discardClient(client);
    client = undefined;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().catch(reconnect);
    }, retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, LISTEN_RETRY_MAX_MS);
  }

  async function close(): Promise<void> {
    closed = true;
    clearTimeout(retryTimer);
    if (client) await discardClient(client);
    client = undefined;
  }

  try {
    await connect();
  } catch (err) {
    await close();
    throw err;
  }
  return close;
}

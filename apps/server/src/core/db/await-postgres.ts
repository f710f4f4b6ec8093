import { sql } from 'kysely';
import pg from 'pg';
import { redactUrl } from '../config/options.js';
import { StartupError } from '../startup-error.js';
import type { Database } from './database.js';
import { isDbError } from './errors.js';

/** How long a node waits for PostgreSQL at start: time for one started alongside it, short enough to fail fast. */
export const POSTGRES_START_TIMEOUT_MS = 10_000;
const RETRY_MS = 500;

/**
 * Resolves once PostgreSQL answers a query. One that is not there yet (refused, unknown host, still
 * starting) is asked again every 0.5 s until the wait is over; one that answers with an error (a
 * wrong password, a database that does not exist) is not asked again. Either way the start stops
 * with one line naming DATABASE_URL, what failed and what to check, not a driver's stack trace.
 */
export async function awaitPostgres(database: Database, url: string, timeoutMs = POSTGRES_START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await sql`select 1`.execute(database.db);
      return;
    } catch (err) {
      const waiting = !answered(err);
      if (!waiting || Date.now() + RETRY_MS > deadline) throw new StartupError(startupMessage(url, err, waiting ? timeoutMs : undefined));
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

/**
 * An answer is an error from the server itself (a DatabaseError, with a SQLSTATE), other than "starting up" or "too
 * many connections" (mapped 'unavailable'). A refused connection, an unknown host (a container not
 * started yet) or a timeout is no answer.
 */
function answered(err: unknown): boolean {
  if (isDbError(err) && err.kind === 'unavailable') return false;
  return (isDbError(err) ? err.cause : err) instanceof pg.DatabaseError;
}

function startupMessage(url: string, err: unknown, waitedMs: number | undefined): string {
  const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  const where = `PostgreSQL at ${redactUrl(url)}`;
  return waitedMs === undefined
    ? `DATABASE_URL: ${where} refused the connection (${reason}). Check the user, password and database name in DATABASE_URL, and that the database exists.`
    : `DATABASE_URL: ${where} did not answer within ${waitedMs / 1000} s (${reason}). Check that PostgreSQL is running and reachable from this host, and the host and port in DATABASE_URL.`;
}

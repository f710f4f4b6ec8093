import type { Kysely, Transaction } from 'kysely';
import type { DbError } from '../errors.js';

/** Everything that differs between SQLite and PostgreSQL lives behind this interface. */
export interface DialectHelpers {
  readonly name: 'sqlite' | 'postgres';
  /** Translates a driver error into a DbError, or returns undefined when it is not one we type. */
  mapError(err: unknown): DbError | undefined;
  /**
   * Serialises event appends until commit so that log order equals commit order.
   * SQLite already has a single writer; PostgreSQL takes a transaction-scoped advisory lock.
   */
  lockEventAppend(tx: Transaction<any>): Promise<void>;
  /** Wakes listeners on other nodes when the transaction commits (PostgreSQL NOTIFY). */
  notifyOnCommit(tx: Transaction<any>, channel: string): Promise<void>;
  /** Runs `fn` while holding a cluster-wide lock named by `key` (migrations, schedulers). */
  withGlobalLock<T>(db: Kysely<any>, key: string, fn: () => Promise<T>): Promise<T>;
  /** `FOR UPDATE SKIP LOCKED` where the database has it. */
  readonly skipLocked: boolean;
}

import SqliteDatabase from 'better-sqlite3';
import { expect } from 'vitest';

/**
 * Records the SQL of every statement better-sqlite3 runs in this process (every Kysely query on
 * SQLite is one), so that a test can read what a call cost. Statement counts do not depend on the
 * machine's load, unlike timings.
 */
export function recordStatements() {
  const probe = new SqliteDatabase(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  const seen: string[] = [];
  const originals = ['run', 'get', 'all', 'iterate'].map((name) => [name, proto[name]!] as const);
  for (const [name, original] of originals) {
    proto[name] = function (this: { source: string }, ...args: unknown[]) {
      seen.push(this.source);
      return original.apply(this, args);
    };
  }
  return {
    seen,
    /**
     * The statements of the one transaction `fn` ran. Every transaction is a savepoint of the driver
     * (core/db/dialects/sqlite-driver.ts); other work (job claims, the event tail) may share its
     * commit, but runs outside it.
     */
    async transactionOf(fn: () => Promise<unknown>): Promise<string[]> {
      seen.length = 0;
      await fn();
      const starts = seen.flatMap((sql, i) => (sql === START ? [i] : []));
      expect(starts.length, 'one transaction').toBe(1);
      const end = seen.findIndex((sql, i) => i > starts[0]! && END.test(sql));
      return seen.slice(starts[0]! + 1, end);
    },
    restore: () => {
      for (const [name, original] of originals) proto[name] = original;
    },
  };
}

const START = 'savepoint lyceum_batch_member';
const END = /^(release|rollback to) lyceum_batch_member$/;

/** The driver's own statements (transactions and the savepoints that mark each one). */
export const isTransactionControl = (sql: string) => /^(begin|commit|rollback|savepoint|release)\b/.test(sql);

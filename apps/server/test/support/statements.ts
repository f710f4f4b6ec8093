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
    /** The statements of the one transaction `fn` ran (background pollers may run before and after it, never inside). */
    async transactionOf(fn: () => Promise<unknown>): Promise<string[]> {
      seen.length = 0;
      await fn();
      const begin = seen.indexOf('begin');
      const commit = seen.indexOf('commit', begin);
      expect(begin, 'one transaction').toBeGreaterThanOrEqual(0);
      expect(seen.indexOf('begin', begin + 1), 'no second transaction').toBe(-1);
      return seen.slice(begin + 1, commit);
    },
    restore: () => {
      for (const [name, original] of originals) proto[name] = original;
    },
  };
}

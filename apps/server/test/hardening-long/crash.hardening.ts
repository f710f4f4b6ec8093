import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { crashCycles } from '../support/crash.js';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../support/databases.js';

const CYCLES = 10;
const CONCURRENT_WRITES = 2000;

describeEachDialect('crash durability: 10 cycles of 2,000 concurrent writes, each cut by SIGKILL', (dialect) => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
  });
  afterAll(() => testDb.drop());

  it('loses no acknowledged write, and the SQLite file passes its integrity check', async () => {
    const { acknowledged, missing } = await crashCycles(testDb.url, { cycles: CYCLES, writers: CONCURRENT_WRITES, killAfter: [1, CONCURRENT_WRITES - 1] });
    process.stdout.write(`[${dialect}] ${acknowledged.length} writes acknowledged over ${CYCLES} crashes, ${missing.length} missing\n`);
    expect(acknowledged.length).toBeGreaterThanOrEqual(CYCLES);
    expect(missing).toEqual([]);
    if (testDb.config.kind === 'sqlite') {
      const handle = new Database(testDb.config.file, { readonly: true });
      try {
        expect(handle.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        handle.close();
      }
    }
  });
});

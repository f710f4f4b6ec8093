import { afterAll, beforeAll, expect, it } from 'vitest';
import { crashCycles } from './support/crash.js';
import { createTestDatabase, describeEachDialect, type TestDatabase } from './support/databases.js';

const CYCLES = 3;

/** The quick version of the crash suite (the long one is in `npm run test:hardening`). */
describeEachDialect('durability across SIGKILL', (dialect) => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
  });
  afterAll(() => testDb.drop());

  it(`keeps every acknowledged write through ${CYCLES} kill -9 cycles`, async () => {
    const { acknowledged, missing } = await crashCycles(testDb.url, { cycles: CYCLES, writers: 24, killAfter: [50, 300] });
    expect(acknowledged.length).toBeGreaterThan(CYCLES * 50);
    expect(missing).toEqual([]);
  }, 180_000);
});

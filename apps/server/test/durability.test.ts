import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDialect, type TestDatabase } from './support/databases.js';
import { startServerProcess } from './support/process.js';

const CYCLES = 3;
const WRITERS = 24;

/**
 * Every write that returned 2xx survives a crash: the real server process takes concurrent writes,
 * is killed with SIGKILL at a random moment, restarts on the same data, and must serve every
 * acknowledged write.
 */
describeEachDialect('durability across SIGKILL', (dialect) => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
  });
  afterAll(() => testDb.drop());

  it(`keeps every acknowledged write through ${CYCLES} kill -9 cycles`, async () => {
    const env = { DATABASE_URL: testDb.url };
    const acknowledged: string[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const server = await startServerProcess(env);
      let killed = false;
      const writer = async (w: number) => {
        for (let i = 0; !killed && i < 10_000; i++) {
          try {
            const res = await fetch(`${server.baseUrl}/api/v1/widgets`, {
              method: 'POST',
              headers: { authorization: 'Bearer test:usr_durable', 'content-type': 'application/json' },
              body: JSON.stringify({ name: `c${cycle}-w${w}-${i}`, size: i % 1000 }),
            });
            if (res.status === 201) acknowledged.push(((await res.json()) as { id: string }).id);
            else await res.text();
          } catch {
            return; // the connection died with the process: this write was never acknowledged
          }
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
      // Kill once a random number of writes has been acknowledged in this cycle.
      const target = acknowledged.length + 50 + Math.floor(Math.random() * 250);
      while (acknowledged.length < target) await new Promise((resolve) => setImmediate(resolve));
      server.child.kill('SIGKILL');
      killed = true;
      expect(await server.exited).toBe('SIGKILL');
      await Promise.all(writers);
    }

    const server = await startServerProcess(env);
    try {
      const missing: string[] = [];
      for (let i = 0; i < acknowledged.length; i += 50) {
        const batch = acknowledged.slice(i, i + 50);
        const statuses = await Promise.all(batch.map(async (id) => (await fetch(`${server.baseUrl}/api/v1/widgets/${id}`)).status));
        statuses.forEach((status, j) => status !== 200 && missing.push(batch[j]!));
      }
      expect(acknowledged.length).toBeGreaterThan(CYCLES * 50);
      expect(missing).toEqual([]);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 180_000);
});

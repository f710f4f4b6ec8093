import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_DATABASE_URL, TEST_REDIS_URL, type TestDatabase } from './support/databases.js';
import { startServerProcess, type ServerProcess } from './support/process.js';

const suite = TEST_DATABASE_URL && TEST_REDIS_URL ? describe : describe.skip;
const name = TEST_DATABASE_URL && TEST_REDIS_URL ? 'two nodes on one PostgreSQL and one Redis' : 'two nodes [skipped: TEST_DATABASE_URL and TEST_REDIS_URL not set]';

suite(name, () => {
  let testDb: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  const prefix = `lyceum-test-${process.pid}-${Date.now()}:`;

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    const env = { DATABASE_URL: testDb.url, REDIS_URL: TEST_REDIS_URL!, REDIS_PREFIX: prefix, EVENT_POLL_MS: '5000' };
    // Both start at once: the migration lock must make that safe.
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  }, 150_000);

  afterAll(async () => {
    for (const node of [a, b]) {
      node?.child.kill('SIGTERM');
      await node?.exited;
    }
    await testDb?.drop();
    await deleteKeys(prefix);
  });

  it('an event appended through node A reaches a subscriber on node B promptly (NOTIFY, not the 5 s poll)', async () => {
    const created = await fetch(`${a.baseUrl}/api/v1/widgets`, {
      method: 'POST',
      headers: { authorization: 'Bearer test:usr_cluster', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'across', size: 1 }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const started = Date.now();
    let seenOnB = false;
    while (!seenOnB && Date.now() - started < 4000) {
      const received = (await (await fetch(`${b.baseUrl}/api/v1/widgets-received`)).json()) as Array<{ widgetId: string }>;
      seenOnB = received.some((r) => r.widgetId === id);
      if (!seenOnB) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seenOnB).toBe(true);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('both nodes are ready, including their Redis check', async () => {
    for (const node of [a, b]) {
      const ready = (await (await fetch(`${node.baseUrl}/health/ready`)).json()) as { status: string; checks: Record<string, unknown> };
      expect(ready).toEqual({ status: 'ok', checks: { database: { status: 'ok' }, migrations: { status: 'ok' }, redis: { status: 'ok' } } });
    }
  });
});

/** Each run uses its own Redis key prefix and removes its keys afterwards. */
async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL!);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

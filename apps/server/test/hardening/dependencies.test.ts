import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_DATABASE_URL, TEST_REDIS_URL, type TestDatabase } from '../support/databases.js';
import { startServerProcess, startTcpProxy, type ServerProcess, type TcpProxy } from '../support/process.js';

const suite = TEST_DATABASE_URL && TEST_REDIS_URL ? describe : describe.skip;
const name = TEST_DATABASE_URL && TEST_REDIS_URL ? 'dependencies going away' : 'dependencies going away [skipped: TEST_DATABASE_URL and TEST_REDIS_URL not set]';

/**
 * PostgreSQL and Redis are reached through forwarders in processes of their own; freezing one
 * (SIGSTOP) makes its service look hung to the server, as a paused VM or a stuck disk would,
 * without disturbing the shared services other suites use.
 */
suite(name, () => {
  let testDb: TestDatabase;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let server: ServerProcess;
  const prefix = `lyceum-test-deps-${process.pid}-${Date.now()}:`;
  const auth = { authorization: 'Bearer test:usr_deps', 'content-type': 'application/json' };

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    const pgUrl = new URL(testDb.url);
    pgProxy = await startTcpProxy(`${pgUrl.hostname}:${pgUrl.port || 5432}`);
    pgUrl.host = `127.0.0.1:${pgProxy.port}`;
    const redisUrl = new URL(TEST_REDIS_URL!);
    redisProxy = await startTcpProxy(`${redisUrl.hostname}:${redisUrl.port || 6379}`);
    redisUrl.host = `127.0.0.1:${redisProxy.port}`;
    server = await startServerProcess({ DATABASE_URL: pgUrl.toString(), REDIS_URL: redisUrl.toString(), REDIS_PREFIX: prefix, DATABASE_TIMEOUT_MS: '3000', REDIS_TIMEOUT_MS: '1000' });
  }, 60_000);

  afterAll(async () => {
    pgProxy?.resume();
    redisProxy?.resume();
    server?.child.kill('SIGTERM');
    await server?.exited;
    pgProxy?.stop();
    redisProxy?.stop();
    await testDb?.drop();
  });

  const timed = async (path: string, init: RequestInit = {}) => {
    const started = performance.now();
    const res = await fetch(`${server.baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(20_000) });
    const body = await res.text();
    return { status: res.status, body, ms: performance.now() - started, retryAfter: res.headers.get('retry-after') };
  };
  const createWidget = (label: string) => timed('/api/v1/widgets', { method: 'POST', headers: auth, body: JSON.stringify({ name: label, size: 1 }) });

  async function until(check: () => Promise<boolean>, withinMs: number): Promise<number> {
    const started = performance.now();
    while (performance.now() - started < withinMs) {
      if (await check().catch(() => false)) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`not recovered within ${withinMs} ms`);
  }

  it('PostgreSQL frozen for 10 s: requests fail with 503 within 5 s, the process stays up, and it recovers by itself', async () => {
    const before = await createWidget('before');
    expect(before.status, before.body).toBe(201);
    const { id } = JSON.parse(before.body) as { id: string };

    pgProxy.pause();
    try {
      const frozenAt = performance.now();
      const [read, write, ready, live] = await Promise.all([timed(`/api/v1/widgets/${id}`, { headers: auth }), createWidget('during'), timed('/health/ready'), timed('/health/live')]);
      for (const res of [read, write]) {
        expect(res.status, res.body).toBe(503);
        expect(res.ms).toBeLessThan(5000);
        expect(JSON.parse(res.body)).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
        expect(res.retryAfter).not.toBeNull();
      }
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(5000);
      expect(live).toMatchObject({ status: 200 });
      expect(live.ms).toBeLessThan(1000);

      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (performance.now() - frozenAt))));
    } finally {
      pgProxy.resume();
    }
    await until(async () => (await timed(`/api/v1/widgets/${id}`, { headers: auth })).status === 200, 15_000);
    const after = await createWidget('after');
    expect(after.status, after.body).toBe(201);
    expect(server.child.exitCode).toBeNull();

    // Nothing acknowledged was lost; the write refused with 503 left nothing half-done.
    const mine = JSON.parse((await timed('/api/v1/widgets?limit=100', { headers: auth })).body) as { items: Array<{ name: string }> };
    const names = mine.items.map((w) => w.name).sort();
    expect(names).toContain('before');
    expect(names).toContain('after');
    expect(names.filter((n) => n === 'during').length).toBeLessThanOrEqual(1);
  }, 60_000);

  it('Redis frozen: the API keeps answering (rate limits let requests through), readiness says Redis is down, and both recover', async () => {
    redisProxy.pause();
    try {
      const read = await timed('/api/v1/widgets?limit=1', { headers: auth });
      expect(read.status, read.body).toBe(200);
      expect(read.ms).toBeLessThan(5000);
      const ready = await timed('/health/ready');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body).checks.redis.status).not.toBe('ok');
      expect(ready.ms).toBeLessThan(5000);
    } finally {
      redisProxy.resume();
    }
    await until(async () => (await timed('/health/ready')).status === 200, 15_000);
    expect(server.child.exitCode).toBeNull();
  }, 60_000);
});

import { expect, it } from 'vitest';
import { createTestDatabase, describeEachDialect } from './support/databases.js';
import { startServerProcess } from './support/process.js';

describeEachDialect('graceful shutdown', (dialect) => {
  it('on SIGTERM finishes every in-flight request, refuses new connections, and exits 0', async () => {
    const testDb = await createTestDatabase(dialect);
    try {
      const server = await startServerProcess({ DATABASE_URL: testDb.url });
      const inFlight = Array.from({ length: 10 }, () => fetch(`${server.baseUrl}/api/v1/widgets-slow?ms=1500`).then(async (r) => [r.status, await r.json()] as const));
      // Wait until the server has started all ten, not for a guessed amount of time.
      while ((server.output().match(/slow request started/g) ?? []).length < 10) await new Promise((resolve) => setTimeout(resolve, 10));
      server.child.kill('SIGTERM');

      const results = await Promise.all(inFlight);
      expect(results).toEqual(Array.from({ length: 10 }, () => [200, { waited: 1500 }]));
      expect(await server.exited).toBe(0);
      await expect(fetch(`${server.baseUrl}/health/live`)).rejects.toThrow();
    } finally {
      await testDb.drop();
    }
  }, 150_000);
});

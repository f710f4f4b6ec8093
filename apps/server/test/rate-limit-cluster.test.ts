import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { TEST_REDIS_URL } from './support/databases.js';
import { createWidgetsModule } from './support/widgets/widgets.module.js';

const suite = TEST_REDIS_URL ? describe : describe.skip;

suite(TEST_REDIS_URL ? 'rate limit shared through Redis' : 'rate limit shared through Redis [skipped: TEST_REDIS_URL not set]', () => {
  const prefix = `lyceum-test-${process.pid}-${Date.now()}:`;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { REDIS_URL: TEST_REDIS_URL!, REDIS_PREFIX: prefix, RATE_LIMIT_MAX: '10' };
    a = await createTestApp({ extraModules: [createWidgetsModule], env });
    b = await createTestApp({ extraModules: [createWidgetsModule], env });
  });
  afterAll(async () => {
    await a.destroy();
    await b.destroy();
    const redis = new Redis(TEST_REDIS_URL!);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('holds one limit across two nodes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const node = i % 2 === 0 ? a : b;
      statuses.push((await node.app.inject({ method: 'GET', url: '/api/v1/widgets', remoteAddress: '10.7.7.7' })).statusCode);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
  });
});

import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { clientRateLimitHook, createClientLimiter, type ClientRateLimitOptions } from './client-rate-limit.js';
import { registerErrorHandling } from './error-handler.js';

const apps: ReturnType<typeof Fastify>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function limitedApp(options: ClientRateLimitOptions) {
  const app = Fastify({ logger: false });
  apps.push(app);
  registerErrorHandling(app);
  app.addHook('onRequest', clientRateLimitHook(createClientLimiter(options)));
  app.get('/', async () => ({ ok: true }));
  await app.ready();
  return (remoteAddress = '192.0.2.1') => app.inject({ method: 'GET', url: '/', remoteAddress });
}

describe('the global rate limit', () => {
  it('states the limit, what is left and when the window ends on every answer', async () => {
    const get = await limitedApp({ max: 2, windowMs: 60_000 });
    const first = await get();
    expect(first.statusCode).toBe(200);
    expect(first.headers).toMatchObject({ 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '60' });
    expect((await get()).headers['ratelimit-remaining']).toBe('0');
    const refused = await get();
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(refused.headers).toMatchObject({ 'ratelimit-limit': '2', 'ratelimit-remaining': '0', 'retry-after': refused.headers['ratelimit-reset'] });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('counts the addresses of one IPv6 /64 together, and another /64 apart', async () => {
    const get = await limitedApp({ max: 1, windowMs: 60_000 });
    expect((await get('2001:db8:5:1::1')).statusCode).toBe(200);
    expect((await get('2001:db8:5:1::2')).statusCode).toBe(429);
    expect((await get('2001:db8:5:2::1')).statusCode).toBe(200);
  });

  it('lets requests through while Redis is unreachable, still counting them on this node', async () => {
    // Port 1 refuses connections: the client never becomes ready.
    const client = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      const get = await limitedApp({ max: 2, windowMs: 60_000, redis: { client, prefix: 'unreachable:' } });
      expect((await get()).statusCode).toBe(200);
      expect((await get()).statusCode).toBe(200);
      expect((await get()).statusCode).toBe(429);
    } finally {
      client.disconnect();
    }
  });
});

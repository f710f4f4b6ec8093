import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { StartupError } from '../src/core/startup-error.js';
import { createTestApp, testConfig, type TestApp } from './support/app.js';
import { describeEachDialect } from './support/databases.js';
import { freePort, redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';
import { createWidgetsModule } from './support/widgets/widgets.module.js';

interface LogLine {
  level: number;
  msg: string;
}

describe('a Redis that does not answer at start', () => {
  it('stops the start with one line naming REDIS_URL, what failed and what to check', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-redis-'));
    try {
      const started = buildApp({ config: testConfig('sqlite::memory:', dataDir, { REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` }), logger: false });
      const error = await started.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(StartupError);
      const message = (error as Error).message;
      expect(message).toMatch(new RegExp(`^REDIS_URL: Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} did not answer within 5 s \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)\\. Check that Redis is running`));
      expect(message).not.toContain('\n');
      expect(message).not.toContain('hunter2');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

const suite = redisServerAvailable ? describeEachDialect : (name: string) => describe.skip(`${name} [skipped: redis-server not installed]`, () => undefined);

suite('cluster mode while Redis goes away and comes back', (dialect) => {
  let redis: RedisServer;
  let t: TestApp | undefined;
  let base: string;
  const lines: LogLine[] = [];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => void rejections.push(reason);
  const sockets: Socket[] = [];

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    redis = await startRedisServer();
    t = await createTestApp({
      dialect,
      extraModules: [createWidgetsModule],
      background: true,
      env: { REDIS_URL: redis.url },
      logger: { level: 'info', stream: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await t?.destroy();
    await redis?.stop();
    process.off('unhandledRejection', onRejection);
  });

  const redisLines = () => lines.filter((line) => /redis/i.test(line.msg));
  const get = (url: string) => fetch(`${base}${url}`, { headers: { authorization: 'Bearer test:usr_rd' } });
  const ready = async () => (await fetch(`${base}/health/ready`)).status;

  /** Two devices of one user in a widget's room: what one types, the other sees through the adapter. */
  async function openDevices(widgetId: string) {
    const devices = await Promise.all(
      [1, 2].map(async () => {
        const socket = connect(base, { path: '/socket.io', transports: ['websocket'], auth: { token: 'test:usr_rd', rooms: [`widget:${widgetId}`] }, reconnection: false, forceNew: true });
        sockets.push(socket);
        const typing: unknown[] = [];
        const widgets: unknown[] = [];
        socket.on('typing:start', (data: unknown) => typing.push(data));
        socket.onAny((name: string, data: unknown) => void (name.startsWith('widgets:') && widgets.push(data)));
        await new Promise((resolve) => socket.once('realtime:ready', resolve));
        return { socket, typing, widgets };
      }),
    );
    return devices as [(typeof devices)[0], (typeof devices)[0]];
  }
  const createWidget = async (name: string) => {
    const response = await fetch(`${base}/api/v1/widgets`, { method: 'POST', headers: { authorization: 'Bearer test:usr_rd', 'content-type': 'application/json' }, body: JSON.stringify({ name, size: 1 }) });
    expect(response.status).toBe(201);
    return (await response.json()) as { id: string };
  };

  it('keeps serving without a crash or an unhandled rejection, logs the outage and the recovery once each, and reconnects by itself', async () => {
    const widget = await createWidget('before');
    const [typist, watcher] = await openDevices(widget.id);
    typist.socket.emit('typing:start', { room: `widget:${widget.id}` });
    await until(() => watcher.typing.length === 1, { what: 'typing reaches the other device', within: 30_000 });
    expect(await ready()).toBe(200);

    await redis.stop();
    await until(() => redisLines().length === 1, { what: 'the outage is logged', within: 30_000 });
    // Requests and persisted events carry on; readiness names Redis; ephemeral signals still reach this node's sockets.
    for (let i = 0; i < 5; i++) expect((await get('/api/v1/widgets')).status).toBe(200);
    await createWidget('during');
    await until(() => watcher.widgets.length === 1, { what: 'the new widget reaches the socket', within: 30_000 });
    const health = await fetch(`${base}/health/ready`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { checks: Record<string, { status: string }> }).checks.redis!.status).toBe('fail');
    typist.socket.emit('typing:stop', { room: `widget:${widget.id}` });
    typist.socket.emit('typing:start', { room: `widget:${widget.id}` });
    await until(() => watcher.typing.length === 2, { what: 'typing reaches the other device during the outage', within: 30_000 });

    await redis.start();
    await until(() => redisLines().length === 2, { what: 'the recovery is logged', within: 30_000 });
    await until(async () => (await ready()) === 200, { what: 'readiness recovers', within: 30_000 });
    expect(redisLines().map(({ level, msg }) => ({ level, msg }))).toEqual([
      { level: 40, msg: expect.stringMatching(/^redis unreachable/) },
      { level: 30, msg: 'redis reachable again' },
    ]);
    expect(rejections).toEqual([]);
  });

  it('survives a PUBLISH that Redis refuses (a presence lookup across nodes)', async () => {
    const admin = new Redis(redis.url);
    // A Redis user that may do anything but PUBLISH, and a subscriber that looks like a second node.
    await admin.acl('SETUSER', 'nopublish', 'on', '>secret', '~*', '&*', '+@all', '-publish');
    const otherNode = new Redis(redis.url);
    await otherNode.subscribe('socket.io#/#');
    const node = await createTestApp({ dialect, extraModules: [createWidgetsModule], env: { REDIS_URL: redis.url.replace('//', '//nopublish:secret@') } });
    try {
      await node.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = node.app.server.address() as { port: number };
      const socket = connect(`http://127.0.0.1:${port}`, { path: '/socket.io', transports: ['websocket'], auth: { token: 'test:usr_rd' }, reconnection: false, forceNew: true });
      sockets.push(socket);
      await new Promise((resolve) => socket.once('realtime:ready', resolve));
      // Following one's own presence asks the other nodes (a PUBLISH), and answers when they do not reply.
      const presence = new Promise((resolve) => socket.once('presence:update', resolve));
      socket.emit('room:join', { room: 'presence:usr_rd' });
      await presence;
      socket.disconnect();
      expect(rejections).toEqual([]);
    } finally {
      await node.destroy();
      otherNode.disconnect();
      admin.disconnect();
    }
  });

  it('leaves no connection to Redis behind when it closes', async () => {
    const admin = new Redis(redis.url);
    try {
      const clients = async () => String(await admin.client('LIST')).split('\n').filter(Boolean).length;
      expect(await clients()).toBeGreaterThan(1);
      for (const socket of sockets) socket.disconnect();
      await t!.destroy();
      t = undefined;
      // The adapter's stream reader lets go when its blocking read (5 s) returns.
      await until(async () => (await clients()) === 1, { what: 'only the admin connection is left', within: 15_000 });
    } finally {
      admin.disconnect();
    }
  });
});

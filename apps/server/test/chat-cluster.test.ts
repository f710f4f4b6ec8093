import { Redis } from 'ioredis';
import pg from 'pg';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_DATABASE_URL, TEST_REDIS_URL, type TestDatabase } from './support/databases.js';
import { startServerProcess, type ServerProcess } from './support/process.js';
import { until } from './support/until.js';

const suite = TEST_DATABASE_URL && TEST_REDIS_URL ? describe : describe.skip;
const name = TEST_DATABASE_URL && TEST_REDIS_URL ? 'chat on two nodes (one PostgreSQL, one Redis)' : 'chat on two nodes [skipped: TEST_DATABASE_URL and TEST_REDIS_URL not set]';

suite(name, () => {
  let testDb: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  const prefix = `lyceum-chat-test-${process.pid}-${Date.now()}:`;
  const sockets: Socket[] = [];
  let alice: string;
  let bob: string;
  // The server processes run the test authenticator (`test:<userId>:<permissions>`), with real accounts behind the ids.
  const token = (userId: string) => `test:${userId}:community:post`;

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    const env = { DATABASE_URL: testDb.url, REDIS_URL: TEST_REDIS_URL!, REDIS_PREFIX: prefix, EVENT_POLL_MS: '5000' };
    // One after the other: the migration lock is tested elsewhere, and two cold starts at once are slow here.
    a = await startServerProcess(env);
    b = await startServerProcess(env);
    for (const email of ['alice@example.com', 'bob@example.com']) {
      const res = await fetch(`${a.baseUrl}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'correct horse battery staple', displayName: email.split('@')[0] }),
      });
      expect(res.status).toBe(202);
    }
    const client = new pg.Client({ connectionString: testDb.url });
    await client.connect();
    const ids = (await client.query<{ id: string; email: string }>('select id, email from identity_user')).rows;
    await client.end();
    alice = ids.find((r) => r.email === 'alice@example.com')!.id;
    bob = ids.find((r) => r.email === 'bob@example.com')!.id;
  }, 300_000);

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const node of [a, b]) {
      node?.child.kill('SIGTERM');
      await node?.exited;
    }
    await testDb?.drop();
    const redis = new Redis(TEST_REDIS_URL!);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  }, 30_000);

  function open(node: ServerProcess, userId: string, auth: Record<string, unknown> = {}) {
    const socket = connect(node.baseUrl, { path: '/socket.io', transports: ['websocket'], auth: { token: token(userId), ...auth }, reconnection: false, forceNew: true });
    sockets.push(socket);
    const received: Array<{ name: string; data: any }> = [];
    socket.onAny((event: string, data: unknown) => received.push({ name: event, data }));
    const ready = new Promise<{ rooms: string[] }>((resolve, reject) => {
      socket.once('realtime:ready', resolve);
      socket.once('connect_error', reject);
    });
    const of = (event: string) => received.filter((r) => r.name === event).map((r) => r.data);
    return { socket, ready, of };
  }

  it('a message sent on node A reaches a socket on node B; typing crosses too; after B dies its client resumes on A exactly once', async () => {
    const created = await fetch(`${a.baseUrl}/api/v1/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token(alice)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'group', title: 'Across nodes', memberIds: [bob] }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const conversationId = ((await created.json()) as { id: string }).id;
    const room = `conversation:${conversationId}`;

    const onA = open(a, alice);
    const onB = open(b, bob);
    expect((await onB.ready).rooms).toContain(room);
    await onA.ready;

    for (let i = 1; i <= 3; i++) expect(await onA.socket.emitWithAck('chat:send', { conversationId, body: `live ${i}`, clientMessageId: `live-${i}` })).toMatchObject({ ok: true, message: { seq: i } });
    await until(() => onB.of('chat:message').length === 3);
    expect(onB.of('chat:message').map((e) => e.payload.body)).toEqual(['live 1', 'live 2', 'live 3']);
    const lastSeq = onB.of('chat:message').at(-1).seq;

    // Ephemeral signals travel through Redis.
    await onA.socket.emitWithAck('typing:start', { room });
    await until(() => onB.of('typing:start').length === 1);
    expect(onB.of('typing:start')[0]).toMatchObject({ room, userId: alice });

    // Node B dies; what Alice sends meanwhile waits in the log.
    b.child.kill('SIGKILL');
    await b.exited;
    for (let i = 1; i <= 4; i++) await onA.socket.emitWithAck('chat:send', { conversationId, body: `missed ${i}`, clientMessageId: `missed-${i}` });
    // A resend after a lost ack is stored once.
    await onA.socket.emitWithAck('chat:send', { conversationId, body: 'missed 4', clientMessageId: 'missed-4' });

    const resumed = open(a, bob, { lastSeq });
    await resumed.ready;
    await onA.socket.emitWithAck('chat:send', { conversationId, body: 'after', clientMessageId: 'after-1' });
    await until(() => resumed.of('chat:message').some((e) => e.payload.body === 'after'));
    expect(resumed.of('chat:message').map((e) => e.payload.body)).toEqual(['missed 1', 'missed 2', 'missed 3', 'missed 4', 'after']);
    expect(resumed.of('chat:message').map((e) => e.payload.seq)).toEqual([4, 5, 6, 7, 8]);
  }, 60_000);
});

import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, chatApp, group, ok, people, send, type ChatTestApp } from './support/chat.js';
import { describeEachDialect } from './support/databases.js';
import { bearer, type SignedIn } from './support/identity.js';
import { until } from './support/until.js';

interface Received {
  name: string;
  data: any;
}

describeEachDialect('chat over Socket.io', (dialect) => {
  let t: ChatTestApp;
  let base: string;
  let ann: SignedIn, ben: SignedIn, cat: SignedIn;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // A real clock: access tokens are checked against it during the handshake.
    t = await chatApp({ dialect, background: true, clock: { now: () => new Date() } as never });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    [ann, ben, cat] = (await people(t, 3, 'Socket')) as [SignedIn, SignedIn, SignedIn];
  }, 180_000);
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await t.destroy();
  });

  /** A real socket.io-client that records every event; resolves `ready` once the server has caught it up. */
  function open(user: SignedIn, auth: Record<string, unknown> = {}) {
    const socket = connect(base, { path: '/socket.io', transports: ['websocket'], auth: { token: user.accessToken, ...auth }, reconnection: false, forceNew: true });
    sockets.push(socket);
    const received: Received[] = [];
    socket.onAny((name: string, data: unknown) => received.push({ name, data }));
    const ready = new Promise<{ rooms: string[] }>((resolve, reject) => {
      socket.once('realtime:ready', resolve);
      socket.once('connect_error', reject);
    });
    const of = (name: string) => received.filter((r) => r.name === name).map((r) => r.data);
    return { socket, received, ready, of };
  }

  it('chat:send is acknowledged with the stored message and reaches the other members in order, each with its log seq', async () => {
    const g = await group(t, ann, [ben]);
    const a = open(ann);
    const b = open(ben);
    // Every socket joins the conversations of its user on connect.
    expect((await b.ready).rooms).toContain(`conversation:${g.id}`);
    await a.ready;
    const acks = [];
    for (let i = 1; i <= 10; i++) acks.push(await a.socket.emitWithAck('chat:send', { conversationId: g.id, body: `message ${i}`, clientMessageId: `sock-${i}` }));
    expect(acks[0]).toMatchObject({ ok: true, message: { seq: 1, body: 'message 1', senderId: ann.userId, conversationId: g.id } });
    await until(() => b.of('chat:message').length === 10);
    const delivered = b.of('chat:message');
    expect(delivered.map((e) => e.payload.body)).toEqual(acks.map((ack) => ack.message.body));
    expect(delivered.map((e) => e.payload.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const logSeqs = delivered.map((e) => e.seq);
    expect(logSeqs).toEqual([...logSeqs].sort((x, y) => x - y));
    expect(delivered[0]).toMatchObject({ type: 'chat.message.created', seq: expect.any(Number), payload: { senderId: ann.userId, preview: 'message 1' } });
    // A resend after a lost ack is the same message.
    const again = await a.socket.emitWithAck('chat:send', { conversationId: g.id, body: 'message 1', clientMessageId: 'sock-1' });
    expect(again.message.id).toBe(acks[0].message.id);
    expect((await ok(api(t, ann, 'GET', `/conversations/${g.id}`))).lastSeq).toBe(10);
  });

  it('refuses commands for conversations the user is not in, and invalid payloads, with codes', async () => {
    const g = await group(t, ann, [ben]);
    await send(t, ann, g.id, 'secret');
    const c = open(cat);
    await c.ready;
    expect(await c.socket.emitWithAck('chat:send', { conversationId: g.id, body: 'intruder' })).toEqual({ ok: false, error: { code: 'CHAT_CONVERSATION_NOT_FOUND', message: 'No such conversation.' } });
    expect(await c.socket.emitWithAck('chat:read', { conversationId: g.id, readSeq: 1 })).toMatchObject({ ok: false, error: { code: 'CHAT_CONVERSATION_NOT_FOUND' } });
    expect(await c.socket.emitWithAck('room:join', { room: `conversation:${g.id}` })).toMatchObject({ ok: false, error: { code: 'REALTIME_ROOM_FORBIDDEN' } });
    expect(await c.socket.emitWithAck('chat:send', { conversationId: g.id })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await c.socket.emitWithAck('chat:send', 'nonsense')).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await c.socket.emitWithAck('typing:start', { room: `conversation:${g.id}` })).toMatchObject({ ok: false, error: { code: 'REALTIME_NOT_IN_ROOM' } });
    expect(c.of('chat:message')).toEqual([]);
    expect((await api(t, cat, 'GET', `/conversations/${g.id}/messages`)).statusCode).toBe(404);
  });

  it('chat:read moves the watermark; the other members see the receipt', async () => {
    const g = await group(t, ann, [ben]);
    for (let i = 0; i < 3; i++) await send(t, ann, g.id, `m${i}`);
    const a = open(ann);
    const b = open(ben);
    await Promise.all([a.ready, b.ready]);
    expect(await b.socket.emitWithAck('chat:read', { conversationId: g.id, readSeq: 2 })).toEqual({ ok: true, read: { conversationId: g.id, readSeq: 2, deliveredSeq: 2, lastSeq: 3, unreadCount: 1 } });
    await until(() => a.of('chat:read').length === 1);
    expect(a.of('chat:read')[0].payload).toEqual({ conversationId: g.id, userId: ben.userId, readSeq: 2, deliveredSeq: 2 });
  });

  it('a client that reconnects with its last seq gets the messages it missed, in order, exactly once', async () => {
    const g = await group(t, ann, [ben]);
    const first = open(ben);
    await first.ready;
    await send(t, ann, g.id, 'before');
    await until(() => first.of('chat:message').length === 1);
    const lastSeq = first.of('chat:message')[0].seq;
    first.socket.disconnect();
    for (let i = 0; i < 5; i++) await send(t, ann, g.id, `missed ${i}`);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) await send(t, ann, g.id, `during ${i}`);
    })();
    const second = open(ben, { lastSeq });
    await second.ready;
    writing = false;
    await writer;
    await send(t, ann, g.id, 'marker');
    await until(() => second.of('chat:message').some((e) => e.payload.body === 'marker'));
    const bodies = second.of('chat:message').map((e) => e.payload.body);
    expect(bodies.slice(0, 5)).toEqual(['missed 0', 'missed 1', 'missed 2', 'missed 3', 'missed 4']);
    expect(new Set(bodies).size).toBe(bodies.length);
    const seqs = second.of('chat:message').map((e) => e.payload.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 2));
  });

  it('typing indicators reach the other members and end by themselves', async () => {
    const g = await group(t, ann, [ben]);
    const a = open(ann);
    const b = open(ben);
    await Promise.all([a.ready, b.ready]);
    const room = `conversation:${g.id}`;
    expect(await a.socket.emitWithAck('typing:start', { room })).toMatchObject({ ok: true, expiresInMs: expect.any(Number) });
    await until(() => b.of('typing:start').length === 1);
    expect(b.of('typing:start')[0]).toMatchObject({ room, userId: ann.userId });
    expect(a.of('typing:start')).toEqual([]);
    await a.socket.emitWithAck('typing:stop', { room });
    await until(() => b.of('typing:stop').length === 1);
    // Started and never stopped: it expires on its own.
    await a.socket.emitWithAck('typing:start', { room });
    await until(() => b.of('typing:stop').length === 2, { within: 15_000 });
    expect(b.of('typing:stop')[1]).toEqual({ room, userId: ann.userId });
  }, 30_000);

  it('presence follows all of a user’s devices: online, away, offline', async () => {
    const [p1, p2] = (await people(t, 2, 'Presence')) as [SignedIn, SignedIn];
    await group(t, p1, [p2]);
    const watcher = open(p2);
    await watcher.ready;
    const stranger = open(cat);
    await stranger.ready;
    expect(await stranger.socket.emitWithAck('room:join', { room: `presence:${p1.userId}` })).toMatchObject({ ok: false });
    expect(await watcher.socket.emitWithAck('room:join', { room: `presence:${p1.userId}` })).toEqual({ ok: true });
    const statuses = () => watcher.of('presence:update').filter((u) => u.userId === p1.userId).map((u) => u.status);
    await until(() => statuses().length === 1);
    expect(statuses()).toEqual(['offline']);
    const phone = open(p1);
    await phone.ready;
    await until(() => statuses().at(-1) === 'online');
    expect(await phone.socket.emitWithAck('presence:update', { status: 'away' })).toEqual({ ok: true });
    await until(() => statuses().at(-1) === 'away');
    const laptop = open(p1);
    await laptop.ready;
    await until(() => statuses().at(-1) === 'online');
    laptop.socket.disconnect();
    await until(() => statuses().at(-1) === 'away');
    phone.socket.disconnect();
    await until(() => statuses().at(-1) === 'offline');
    expect(watcher.of('presence:update').at(-1)).toMatchObject({ userId: p1.userId, status: 'offline', lastSeenAt: expect.any(String) });
  });

  it('logging out over HTTP disconnects that session’s sockets with AUTH_SESSION_REVOKED, and only those', async () => {
    const [p1] = (await people(t, 1, 'Leaver')) as [SignedIn];
    const loggedOut = open(p1);
    const other = open(ben);
    await Promise.all([loggedOut.ready, other.ready]);
    const ended = new Promise<unknown>((resolve) => loggedOut.socket.once('session:ended', resolve));
    const disconnected = new Promise<string>((resolve) => loggedOut.socket.once('disconnect', resolve));
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(p1.accessToken) });
    expect(res.statusCode, res.body).toBeLessThan(300);
    expect(await ended).toEqual({ code: 'AUTH_SESSION_REVOKED', reason: 'logout' });
    expect(await disconnected).toBe('io server disconnect');
    expect(other.socket.connected).toBe(true);
    // The ended session cannot connect again.
    const again = connect(base, { path: '/socket.io', transports: ['websocket'], auth: { token: p1.accessToken }, reconnection: false, forceNew: true });
    sockets.push(again);
    const refusal = await new Promise<string>((resolve) => again.once('connect_error', (err: Error & { data?: { code: string } }) => resolve(err.data?.code ?? err.message)));
    expect(refusal).toBe('AUTH_SESSION_ENDED');
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { createTestApp, type TestApp } from './support/app.js';
import { describeEachDialect } from './support/databases.js';
import { until } from './support/until.js';
import { createWidgetsModule } from './support/widgets/widgets.module.js';

interface Received {
  seq: number;
  type: string;
  payload: { id: string; version?: number };
}

describeEachDialect('realtime gateway and event stream', (dialect) => {
  let t: TestApp;
  let base: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await createTestApp({ dialect, extraModules: [createWidgetsModule], background: true, env: { CORS_ORIGINS: 'https://app.example' } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await t.destroy();
  });

  /** A real socket.io-client; resolves once the server says the socket is ready (caught up). */
  function open(auth: Record<string, unknown>, headers: Record<string, string> = {}) {
    const socket = connect(base, { path: '/socket.io', transports: ['websocket'], auth, extraHeaders: headers, reconnection: false, forceNew: true });
    sockets.push(socket);
    const received: Received[] = [];
    socket.onAny((name: string, data: Received) => {
      if (name.startsWith('widgets:')) received.push(data);
    });
    const ready = new Promise<void>((resolve, reject) => {
      socket.once('realtime:ready', () => resolve());
      socket.once('connect_error', reject);
    });
    ready.catch(() => undefined); // refusals are asserted through connect_error, not here
    return { socket, received, ready };
  }

  const refusal = (auth: Record<string, unknown>, headers: Record<string, string> = {}) =>
    new Promise<string>((resolve) => {
      const { socket } = open(auth, headers);
      socket.once('connect_error', (err: Error & { data?: { code: string } }) => resolve(err.data?.code ?? err.message));
    });

  const createWidget = async (user: string, name = 'w') =>
    (await t.app.inject({ method: 'POST', url: '/api/v1/widgets', headers: { authorization: `Bearer test:${user}` }, payload: { name, size: 1 } })).json() as { id: string };

  it('refuses missing and forged tokens and unknown origins at the handshake, with a reason code', async () => {
    expect(await refusal({})).toBe('AUTH_REQUIRED');
    expect(await refusal({ token: 'forged!' })).toBe('AUTH_INVALID_TOKEN');
    expect(await refusal({ token: 'test:usr_rt' }, { origin: 'https://evil.example' })).toBe('ORIGIN_NOT_ALLOWED');
    const allowed = open({ token: 'test:usr_rt' }, { origin: 'https://app.example' });
    await allowed.ready;
    allowed.socket.disconnect();
  });

  it("delivers a user's events to their sockets only, each with its log seq", async () => {
    const mine = open({ token: 'test:usr_ann' });
    const theirs = open({ token: 'test:usr_ben' });
    await Promise.all([mine.ready, theirs.ready]);
    const widget = await createWidget('usr_ann');
    await until(() => mine.received.length === 1);
    expect(mine.received[0]).toMatchObject({ type: 'widgets.widget.created', payload: { id: widget.id }, seq: expect.any(Number) });
    await createWidget('usr_ben');
    await until(() => theirs.received.length === 1);
    expect(mine.received).toHaveLength(1);
  });

  it('joins a room only when the owning module allows it', async () => {
    const owner = open({ token: 'test:usr_owner' });
    const stranger = open({ token: 'test:usr_stranger' });
    await Promise.all([owner.ready, stranger.ready]);
    const widget = await createWidget('usr_owner');
    await until(() => owner.received.length === 1);
    expect(await owner.socket.emitWithAck('room:join', { room: `widget:${widget.id}` })).toEqual({ ok: true });
    expect(await stranger.socket.emitWithAck('room:join', { room: `widget:${widget.id}` })).toMatchObject({ ok: false, error: { code: 'REALTIME_ROOM_FORBIDDEN' } });
    expect(await stranger.socket.emitWithAck('room:join', { room: 'user:usr_owner' })).toMatchObject({ ok: false });
    expect(await stranger.socket.emitWithAck('room:join', { room: 'nonsense:1' })).toMatchObject({ ok: false });
    await t.app.inject({ method: 'PATCH', url: `/api/v1/widgets/${widget.id}`, headers: { authorization: 'Bearer test:usr_owner' }, payload: { size: 2 } });
    await until(() => owner.received.some((e) => e.type === 'widgets.widget.updated'));
    expect(stranger.received).toEqual([]);
  });

  it('a client that reconnects with its last seq gets everything it missed, in order, exactly once', async () => {
    const first = open({ token: 'test:usr_resume' });
    await first.ready;
    await createWidget('usr_resume', 'before');
    await until(() => first.received.length === 1);
    const lastSeq = first.received[0]!.seq;
    first.socket.disconnect();

    const missed: string[] = [];
    for (let i = 0; i < 5; i++) missed.push((await createWidget('usr_resume', `missed-${i}`)).id);
    // Keep writing while the client reconnects, so live delivery and catch-up overlap.
    let writing = true;
    const during: string[] = [];
    const writer = (async () => {
      while (writing) during.push((await createWidget('usr_resume', 'during')).id);
    })();
    const second = open({ token: 'test:usr_resume', lastSeq });
    await second.ready;
    writing = false;
    await writer;
    const expectedIds = [...missed, ...during];
    await until(() => second.received.length >= expectedIds.length);
    await createWidget('usr_resume', 'marker');
    await until(() => second.received.some((e) => e.type === 'widgets.widget.created' && !expectedIds.includes(e.payload.id)));
    const ids = second.received.map((e) => e.payload.id);
    expect(ids.slice(0, expectedIds.length)).toEqual(expectedIds);
    expect(new Set(ids).size).toBe(ids.length);
    const seqs = second.received.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs[0]).toBeGreaterThan(lastSeq);
  });

  it('tells a client that was away past retention to resync', async () => {
    await createWidget('usr_old');
    const oldest = (await t.core.events.oldestSeq())!;
    await t.core.database.db.deleteFrom('core_event_scopes').where('seq', '<=', oldest + 1).execute();
    await t.core.database.db.deleteFrom('core_events').where('seq', '<=', oldest + 1).execute();
    const resets: unknown[] = [];
    const late = open({ token: 'test:usr_old', lastSeq: 0 });
    late.socket.on('sync:reset', (data) => resets.push(data));
    await late.ready;
    expect(resets).toEqual([{ oldestSeq: oldest + 2 }]);
  });

  it('disconnects the sockets of a session that ends, with a reason', async () => {
    const client = open({ token: 'test:usr_gone' });
    await client.ready;
    const ended = new Promise<unknown>((resolve) => client.socket.once('session:ended', resolve));
    const disconnected = new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
    t.core.access.sessionEnded('ses_usr_gone', 'AUTH_SESSION_REVOKED');
    expect(await ended).toEqual({ code: 'AUTH_SESSION_REVOKED' });
    expect(await disconnected).toBe('io server disconnect');
  });

  it("acknowledges a failed command with a retryable code when the database is unavailable, and hides a bug's details", async () => {
    const client = open({ token: 'test:usr_acks' });
    await client.ready;
    expect(await client.socket.emitWithAck('widgets:fail', { as: 'db-unavailable' })).toEqual({
      ok: false,
      error: { code: 'SERVICE_UNAVAILABLE', message: 'The database is not answering; retry shortly.' },
    });
    expect(await client.socket.emitWithAck('widgets:fail', { as: 'bug' })).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'The command failed; try again.' } });
  });

  it('an oversize payload or a flood disconnects only that client', async () => {
    const bystander = open({ token: 'test:usr_calm' });
    const big = open({ token: 'test:usr_big' });
    const flood = open({ token: 'test:usr_flood' });
    await Promise.all([bystander.ready, big.ready, flood.ready]);
    const bigGone = new Promise<string>((resolve) => big.socket.once('disconnect', resolve));
    big.socket.emit('room:join', { room: 'x'.repeat(200 * 1024) });
    expect(await bigGone).toBe('transport close');

    const floodEnded = new Promise<unknown>((resolve) => flood.socket.once('session:ended', resolve));
    for (let i = 0; i < 100; i++) flood.socket.emit('room:leave', { room: 'none' });
    expect(await floodEnded).toEqual({ code: 'RATE_LIMITED' });

    expect(bystander.socket.connected).toBe(true);
    await createWidget('usr_calm');
    await until(() => bystander.received.length === 1);
  });

  it('streams the same events over SSE, resumable with Last-Event-ID', async () => {
    const headers = { authorization: 'Bearer test:usr_sse' };
    const first = await createWidget('usr_sse', 'one');
    const controller = new AbortController();
    const res = await fetch(`${base}/api/v1/events/stream`, { headers, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let text = '';
    const second = await createWidget('usr_sse', 'two');
    while (!text.includes(second.id)) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).not.toContain(first.id); // no Last-Event-ID: live events only
    const frame = /id: (\d+)\nevent: widgets:widget\.created\ndata: (.+)\n\n/.exec(text)!;
    expect(JSON.parse(frame[2]!)).toMatchObject({ seq: Number(frame[1]), payload: { id: second.id } });

    const third = await createWidget('usr_sse', 'three');
    const resumed = new AbortController();
    const again = await fetch(`${base}/api/v1/events/stream`, { headers: { ...headers, 'last-event-id': frame[1]! }, signal: resumed.signal });
    const reader2 = again.body!.getReader();
    let text2 = '';
    while (!text2.includes(third.id)) text2 += new TextDecoder().decode((await reader2.read()).value);
    resumed.abort();
    expect(text2).not.toContain(second.id);

    const forbidden = await fetch(`${base}/api/v1/events/stream?rooms=widget:${first.id}`, { headers: { authorization: 'Bearer test:usr_other' } });
    expect(forbidden.status).toBe(403);
    expect((await fetch(`${base}/api/v1/events/stream`)).status).toBe(401);
  });
});

import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, chatApp, eventsOf, group, ok, people, send, type ChatTestApp } from './support/chat.js';
import { describeEachDialect } from './support/databases.js';
import { manualClock, type SignedIn } from './support/identity.js';
import { until } from './support/until.js';

describeEachDialect('chat: muting a conversation', (dialect) => {
  let t: ChatTestApp;
  let base: string;
  let ann: SignedIn, ben: SignedIn, cat: SignedIn, dan: SignedIn;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // A manual clock from the real time (the handshake checks tokens), with tokens that outlive the hours it is moved on.
    // No notify delay: each message asks for its notifications at once (chat-notify.test.ts covers the delay).
    t = await chatApp({ dialect, background: true, clock: manualClock(Date.now()), env: { AUTH_ACCESS_TOKEN_TTL_SECONDS: '86400', CHAT_NOTIFY_DELAY_SECONDS: '0' } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    [ann, ben, cat, dan] = (await people(t, 4, 'Muter')) as [SignedIn, SignedIn, SignedIn, SignedIn];
  }, 180_000);
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await t?.destroy();
  });

  /** The inbox entries about conversation `id` (messages and mentions). */
  const inboxAbout = async (user: SignedIn, id: string) => (await ok(api(t, user, 'GET', '/notifications?limit=100'))).items.filter((n: any) => n.entity.id === id);
  /** Waits until `user` has an inbox entry of `category` about `id`. */
  const notified = (user: SignedIn, id: string, category = 'message') => until(async () => (await inboxAbout(user, id)).some((n: any) => n.category === category));
  const messageEvent = async (id: string, messageId: string) => (await eventsOf(t, `conversation:${id}`, 'chat.message.created')).find((e) => e.payload.messageId === messageId)!;
  /** Who chat asked to notify of a message (an `internal` event no client can follow), once its notify job ran; [] when it asked nobody. */
  const notifyIds = async (messageId: string) => {
    const pending = async (status: 'queued' | 'running') => (await t.core.jobs.list({ status, limit: 1000 })).some((j) => j.name === 'chat.message.notify');
    await until(async () => !(await pending('queued')) && !(await pending('running')));
    return (await eventsOf(t, 'internal', 'chat.message.notify')).find((e) => e.payload.messageId === messageId)?.payload.notifyIds ?? [];
  };

  it('a muted member still gets the message live and over REST, and it counts as unread, but no inbox entry', async () => {
    const g = await group(t, ann, [ben, cat]);
    expect(await ok(api(t, ben, 'PUT', `/conversations/${g.id}/mute`, {}))).toEqual({ conversationId: g.id, muted: true, mutedUntil: null });
    expect((await ok(api(t, ben, 'GET', `/conversations/${g.id}`))).me).toMatchObject({ muted: true, mutedUntil: null });
    expect((await ok(api(t, cat, 'GET', `/conversations/${g.id}`))).me).toMatchObject({ muted: false, mutedUntil: null });

    const socket = connect(base, { path: '/socket.io', transports: ['websocket'], auth: { token: ben.accessToken }, reconnection: false, forceNew: true });
    sockets.push(socket);
    const live: any[] = [];
    socket.on('chat:message', (e) => live.push(e));
    await new Promise((resolve, reject) => {
      socket.once('realtime:ready', resolve);
      socket.once('connect_error', reject);
    });

    const message = await send(t, ann, g.id, 'While you were muted');
    await until(() => live.some((e) => e.payload.messageId === message.id));
    expect((await ok(api(t, ben, 'GET', `/conversations/${g.id}/messages`))).items.map((m: any) => m.id)).toContain(message.id);
    const listed = (await ok(api(t, ben, 'GET', '/conversations'))).items.find((c: any) => c.id === g.id);
    expect(listed.me).toMatchObject({ unreadCount: 1, muted: true });

    // Cat, not muted, is notified; once cat's entry is in, ben's would be too had he not muted.
    await notified(cat, g.id);
    expect(await inboxAbout(ben, g.id)).toEqual([]);
    expect(await notifyIds(message.id)).toEqual([cat.userId]);
    // What every member receives does not tell them who muted.
    const shared = (await messageEvent(g.id, message.id)).payload;
    expect(JSON.stringify(shared)).not.toContain('notify');
    expect(live.find((e) => e.payload.messageId === message.id).payload).not.toHaveProperty('notifyIds');
    expect((await api(t, ben, 'GET', '/events/stream?rooms=internal')).statusCode).toBe(403);
  });

  it('a mention of a muted member still notifies them', async () => {
    const g = await group(t, ann, [ben]);
    await ok(api(t, ben, 'PUT', `/conversations/${g.id}/mute`, { duration: '1w' }));
    await send(t, ann, g.id, { body: 'Ben, look', mentions: [ben.userId] });
    await notified(ben, g.id, 'mention');
    expect((await inboxAbout(ben, g.id)).map((n: any) => n.category)).toEqual(['mention']);
  });

  it('a mute ends by itself at its time: then messages notify again', async () => {
    const g = await group(t, ann, [dan, cat]);
    const end = new Date(t.clock.now().getTime() + 60_000).toISOString();
    expect(await ok(api(t, dan, 'PUT', `/conversations/${g.id}/mute`, { until: end }))).toEqual({ conversationId: g.id, muted: true, mutedUntil: end });
    await send(t, ann, g.id, 'Before the end');
    await notified(cat, g.id);
    expect(await inboxAbout(dan, g.id)).toEqual([]);

    t.clock.advance(60_001);
    expect((await ok(api(t, dan, 'GET', `/conversations/${g.id}`))).me).toMatchObject({ muted: false, mutedUntil: null });
    const after = await send(t, ann, g.id, 'After the end');
    expect(await notifyIds(after.id)).toEqual([cat.userId, dan.userId].sort());
    await notified(dan, g.id);
  });

  it('mutes for a preset duration, replaces a mute, and unmutes', async () => {
    const g = await group(t, ann, [ben]);
    const at = t.clock.now().getTime();
    expect(await ok(api(t, ben, 'PUT', `/conversations/${g.id}/mute`, { duration: '8h' }))).toMatchObject({ muted: true, mutedUntil: new Date(at + 8 * 3_600_000).toISOString() });
    expect(await ok(api(t, ben, 'PUT', `/conversations/${g.id}/mute`, { duration: '1h' }))).toMatchObject({ mutedUntil: new Date(at + 3_600_000).toISOString() });
    const first = await send(t, ann, g.id, 'Quiet');
    expect(await notifyIds(first.id)).toEqual([]);

    expect((await api(t, ben, 'DELETE', `/conversations/${g.id}/mute`)).statusCode).toBe(204);
    expect((await ok(api(t, ben, 'GET', `/conversations/${g.id}`))).me).toMatchObject({ muted: false, mutedUntil: null });
    const second = await send(t, ann, g.id, 'Loud');
    expect(await notifyIds(second.id)).toEqual([ben.userId]);
    // Unmuting what is not muted changes nothing and is no error.
    expect((await api(t, ben, 'DELETE', `/conversations/${g.id}/mute`)).statusCode).toBe(204);

    // The member's other devices hear of each change; the other members do not.
    const changes = await eventsOf(t, `user:${ben.userId}`, 'chat.mute.updated');
    expect(changes.filter((e) => e.payload.conversationId === g.id).map((e) => [e.payload.muted, e.scopes])).toEqual([
      [true, [`user:${ben.userId}`]],
      [true, [`user:${ben.userId}`]],
      [false, [`user:${ben.userId}`]],
      [false, [`user:${ben.userId}`]],
    ]);
    expect(await eventsOf(t, `conversation:${g.id}`, 'chat.mute.updated')).toEqual([]);
  });

  it('refuses a mute that ends in the past or names both an end and a duration', async () => {
    const g = await group(t, ann, [ben]);
    const past = await api(t, ben, 'PUT', `/conversations/${g.id}/mute`, { until: new Date(t.clock.now().getTime() - 1000).toISOString() });
    expect(past.statusCode).toBe(422);
    expect(past.json().errors).toEqual([{ path: '/body/until', message: 'until must be in the future' }]);
    const both = await api(t, ben, 'PUT', `/conversations/${g.id}/mute`, { until: new Date(t.clock.now().getTime() + 60_000).toISOString(), duration: '1h' });
    expect(both.statusCode).toBe(422);
    expect((await api(t, ben, 'PUT', `/conversations/${g.id}/mute`, { duration: '2h' })).statusCode).toBe(422);
    // A leap second is a valid date-time but no JavaScript instant.
    expect((await api(t, ben, 'PUT', `/conversations/${g.id}/mute`, { until: '2030-12-31T23:59:60Z' })).statusCode).toBe(422);
    expect((await ok(api(t, ben, 'GET', `/conversations/${g.id}`))).me.muted).toBe(false);
  });

  it('a non-member can neither mute nor unmute a conversation (404, as for every member-only route)', async () => {
    const g = await group(t, ann, [ben]);
    for (const [method, payload] of [['PUT', {}], ['DELETE', undefined]] as const) {
      const res = await api(t, dan, method, `/conversations/${g.id}/mute`, payload);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('CHAT_CONVERSATION_NOT_FOUND');
    }
    expect((await eventsOf(t, `user:${dan.userId}`, 'chat.mute.updated')).filter((e) => e.payload.conversationId === g.id)).toEqual([]);
  });
});

import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { notificationsApp, userId, type NotificationsTestApp } from '../../../test/support/notifications.js';
import { until } from '../../../test/support/until.js';

describeEachDialect('notifications delivered live over the realtime gateway', (dialect) => {
  let t: NotificationsTestApp;
  let base: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    t = await notificationsApp({ dialect });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await t?.destroy();
  });

  function open(user: string) {
    const socket = connect(base, { path: '/socket.io', transports: ['websocket'], auth: { token: `test:${user}` }, reconnection: false, forceNew: true });
    sockets.push(socket);
    const received: Array<{ name: string; data: any }> = [];
    socket.onAny((name: string, data: unknown) => {
      if (name === 'notification:new' || name.startsWith('notifications:')) received.push({ name, data });
    });
    const ready = new Promise<void>((resolve, reject) => {
      socket.once('realtime:ready', () => resolve());
      socket.once('connect_error', reject);
    });
    return { socket, received, ready };
  }

  it("sends each user their own new notifications as notification:new, and nobody else's", async () => {
    const [alice, bob] = [userId('alice'), userId('bob')];
    const a = open(alice);
    const b = open(bob);
    await Promise.all([a.ready, b.ready]);
    await t.emit({ type: 'community.follow.created', scopes: [`user:${alice}`], payload: { followerId: bob, followeeId: alice } });
    await until(() => a.received.length === 1);
    expect(a.received[0]).toMatchObject({
      name: 'notification:new',
      data: { type: 'notifications.notification.created', seq: expect.any(Number), payload: { notification: { category: 'follow', actorId: bob, read: false } } },
    });
    // Reading it is announced too, so that the user's other devices update their unread badge.
    const id = a.received[0]!.data.payload.notification.id as string;
    await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: t.as(alice), payload: { ids: [id] } });
    await until(() => a.received.length === 2);
    expect(a.received[1]).toMatchObject({ name: 'notifications:notification.read', data: { payload: { userId: alice, ids: [id] } } });
    expect(b.received).toHaveLength(0);
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { notificationsApp, startPushService, userId, type NotificationsTestApp } from '../../../test/support/notifications.js';
import { until } from '../../../test/support/until.js';
import { PUSH_JOB } from './push.service.js';

describeEachDialect('web push', (dialect) => {
  let t: NotificationsTestApp;
  let pushService: Awaited<ReturnType<typeof startPushService>>;
  beforeAll(async () => {
    pushService = await startPushService();
    // The local push service listens on 127.0.0.1; the default allow-list names only real push services.
    t = await notificationsApp({ dialect, env: { PUBLIC_URL: 'https://learn.example.com', PUSH_ENDPOINT_HOSTS: '127.0.0.1,*.push.services.mozilla.com' } });
  }, 60_000);
  afterAll(async () => {
    await t?.destroy();
    await pushService?.close();
  });

  const subscribe = (user: string, body: object) => t.app.inject({ method: 'POST', url: '/api/v1/push/subscriptions', headers: t.as(user), payload: body });
  const mention = (user: string, post: string) => t.emit({ type: 'community.mention.created', scopes: [`user:${user}`], payload: { userId: user, authorId: userId('w'), postId: post } });
  const deliveries = async (user: string) => (await t.notifications.channels.deliveries(user)).filter((d) => d.channel === 'push');

  it('publishes a VAPID public key that stays the same across restarts of the module', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/push/vapid-public-key' });
    expect(res.statusCode).toBe(200);
    const { publicKey } = res.json();
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);
    expect(await t.core.secrets.getOrCreate('push-vapid-keys', () => 'not used')).toContain(publicKey);
  });

  it('pushes an encrypted payload that the device decrypts, signed with VAPID', async () => {
    const user = userId('p');
    const device = pushService.device();
    const res = await subscribe(user, { endpoint: device.endpoint, keys: device.keys, expirationTime: null });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/push/subscriptions/${res.json().id}`);
    await mention(user, 'pst_push1');
    await until(async () => (await deliveries(user)).length === 1);
    t.clock.advance(31_000);
    await until(() => pushService.received.some((r) => r.path === device.path));
    const got = pushService.received.find((r) => r.path === device.path)!;
    expect(got.payload).toMatchObject({ category: 'mention', url: 'https://learn.example.com/posts/pst_push1' });
    expect(got.payload.title).toContain('mentioned you');
    expect(got.headers['content-encoding']).toBe('aes128gcm');
    expect(String(got.headers.authorization)).toMatch(/^vapid t=.+, k=.+/);
    await until(async () => (await deliveries(user))[0]!.status === 'sent');
  });

  it('sends each push with a Topic from its delivery, and a job retried after the push service accepted it sends nothing', async () => {
    const user = userId('t');
    const [phone, laptop] = [pushService.device(), pushService.device()];
    for (const device of [phone, laptop]) expect((await subscribe(user, { endpoint: device.endpoint, keys: device.keys })).statusCode).toBe(201);
    await mention(user, 'pst_topic');
    await until(async () => (await deliveries(user)).length === 1);
    t.clock.advance(31_000);
    await until(async () => (await deliveries(user))[0]!.status === 'sent');
    const [delivery] = await deliveries(user);
    const got = pushService.received.filter((r) => r.path === phone.path || r.path === laptop.path);
    expect(got).toHaveLength(2);
    // RFC 8030 §5.4: a copy still pending at the push service with the same topic is replaced, not shown twice.
    for (const r of got) expect(r.headers.topic).toBe(delivery!.id);
    expect(delivery!.id).toMatch(/^[A-Za-z0-9_-]{1,32}$/);

    // As if the worker died after both devices accepted, before the delivery was settled: the job runs again.
    await t.core.database.db.updateTable('notifications_delivery').set({ status: 'queued' }).where('id', '=', delivery!.id).execute();
    await t.notifications.push.sendPush({ id: 'job_retry', name: PUSH_JOB, payload: { deliveryId: delivery!.id }, attempt: 2, maxAttempts: 6, signal: new AbortController().signal });
    expect(pushService.received.filter((r) => r.path === phone.path || r.path === laptop.path)).toHaveLength(2);
    expect((await deliveries(user))[0]!.status).toBe('sent');
  });

  it('removes a subscription that the push service answers 410 or 404 for', async () => {
    const user = userId('g');
    const gone = pushService.device();
    const alive = pushService.device();
    expect((await subscribe(user, { endpoint: gone.endpoint, keys: gone.keys })).statusCode).toBe(201);
    expect((await subscribe(user, { endpoint: alive.endpoint, keys: alive.keys })).statusCode).toBe(201);
    pushService.answer(gone.path, 410);
    await mention(user, 'pst_push2');
    await until(async () => (await deliveries(user)).length === 1);
    t.clock.advance(31_000);
    await until(async () => (await deliveries(user))[0]!.status === 'sent');
    expect(pushService.received.some((r) => r.path === alive.path)).toBe(true);
    const rows = await t.core.database.db.selectFrom('notifications_push_subscription').select('endpoint').where('user_id', '=', user).execute();
    expect(rows.map((r) => r.endpoint)).toEqual([alive.endpoint]);
  });

  it('does not push what was read in the app first, nor to users who turned push off', async () => {
    const [reader, quiet] = [userId('r'), userId('q')];
    const a = pushService.device();
    const b = pushService.device();
    await subscribe(reader, { endpoint: a.endpoint, keys: a.keys });
    await subscribe(quiet, { endpoint: b.endpoint, keys: b.keys });
    await t.app.inject({ method: 'PUT', url: '/api/v1/notifications/preferences', headers: t.as(quiet), payload: { categories: { mention: { push: false } } } });
    await mention(reader, 'pst_push3');
    await mention(quiet, 'pst_push4');
    await until(async () => (await deliveries(reader)).length === 1 && (await t.inbox(quiet)).items.length === 1);
    await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: t.as(reader), payload: { all: true } });
    t.clock.advance(31_000);
    await until(async () => (await deliveries(reader))[0]!.status !== 'queued');
    expect((await deliveries(reader))[0]).toMatchObject({ status: 'suppressed', reason: 'read-in-app' });
    expect(await deliveries(quiet)).toHaveLength(0);
    expect(pushService.received.some((r) => r.path === a.path || r.path === b.path)).toBe(false);
  });

  it('lets only the owner delete a subscription, and refuses bad ones', async () => {
    const [owner, other] = [userId('o'), userId('x')];
    const device = pushService.device();
    const id = (await subscribe(owner, { endpoint: device.endpoint, keys: device.keys })).json().id as string;
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/push/subscriptions/${id}`, headers: t.as(other) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/push/subscriptions/${id}`, headers: t.as(owner) })).statusCode).toBe(204);
    expect((await subscribe(owner, { endpoint: 'ftp://push.example.com/x', keys: device.keys })).statusCode).toBe(422);
    // The server POSTs to endpoints: only the push services' hosts, never an internal address.
    for (const endpoint of ['https://10.0.0.5/push/x', 'https://169.254.169.254/latest/meta-data', 'https://evil-push.services.mozilla.com.attacker.net/x']) {
      expect((await subscribe(owner, { endpoint, keys: device.keys })).json(), endpoint).toMatchObject({ status: 422, code: 'NOTIFICATIONS_PUSH_ENDPOINT_INVALID' });
    }
    expect((await subscribe(owner, { endpoint: 'https://updates.push.services.mozilla.com/wpush/v2/abc', keys: device.keys })).statusCode).toBe(201);
    expect((await subscribe(owner, { endpoint: device.endpoint, keys: { p256dh: 'A'.repeat(87), auth: device.keys.auth } })).statusCode).toBe(422);
  });
});

import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { notificationsApp, userId, type NotificationsTestApp } from '../../../test/support/notifications.js';
import { createNotificationsModule } from './index.js';
import { RECIPIENTS_PER_TRANSACTION } from './notifications.service.js';
import type { NotificationSpec } from './notifications.sources.js';

describeEachDialect('notifications batch ingestion', (dialect) => {
  let t: NotificationsTestApp;
  beforeAll(async () => {
    t = await notificationsApp({ dialect });
  }, 60_000);
  afterAll(() => t?.destroy());

  const db = () => t.core.database.db;
  const announcement = (id: string, userIds: string[]): NotificationSpec[] =>
    userIds.map((u) => ({ userId: u, category: 'announcement', type: 'notifications.announcement.created', title: 'Algebra: Exam on Friday', body: 'Bring a compass.', link: `/courses/crs_1/announcements/${id}`, entity: { type: 'announcement', id }, actorId: 'usr_teacher', sourceKey: `announcement:${id}`, sourceSeq: 0 }));
  const message = (n: number, userIds: string[]): NotificationSpec[] =>
    userIds.map((u) => ({ userId: u, category: 'message', type: 'chat.message.notify', title: 'New message from Ada', body: `message ${n}`, link: '/conversations/cnv_b', entity: { type: 'conversation', id: 'cnv_b' }, actorId: 'usr_ada', groupKey: 'message:cnv_b', groupTitle: '{count} new messages', sourceKey: `evt_b${n}`, sourceSeq: n }));
  const members = (n: number, name: string) => Array.from({ length: n }, () => userId(name));
  const setPreferences = async (user: string, payload: object) => {
    const res = await t.app.inject({ method: 'PUT', url: '/api/v1/notifications/preferences', headers: t.as(user), payload });
    expect(res.statusCode, res.body).toBe(200);
  };
  const addDevices = (users: string[]) =>
    db()
      .insertInto('notifications_push_subscription')
      .values(users.map((u) => ({ id: `psub_${u}`, user_id: u, endpoint: `https://fcm.googleapis.com/fcm/send/${u}`, p256dh: 'k', auth: 'a', created_at: '2026-11-22T09:00:00.000Z', last_success_at: null })))
      .execute();
  /** Deliveries of one source, by "channel status reason" and count. */
  const deliveriesOf = async (sourceKey: string) => {
    const rows = await db().selectFrom('notifications_delivery').select(['channel', 'status', 'reason', (eb) => eb.fn.countAll().as('n')]).where('source_key', '=', sourceKey).groupBy(['channel', 'status', 'reason']).execute();
    return Object.fromEntries(rows.map((r) => [`${r.channel} ${r.status} ${r.reason ?? '-'}`, Number(r.n)]));
  };
  /** The channel jobs queued for the deliveries of one source. */
  const jobsFor = async (sourceKey: string) => {
    const deliveries = await db().selectFrom('notifications_delivery').select(['id', 'channel']).where('source_key', '=', sourceKey).execute();
    const keys = deliveries.map((d) => `notifications.${d.channel}:${d.id}`);
    return Number((await db().selectFrom('core_jobs').select((eb) => eb.fn.countAll().as('n')).where('unique_key', 'in', keys).executeTakeFirstOrThrow()).n);
  };
  const createdEventsSince = async (seq: number) =>
    Number((await db().selectFrom('core_events').select((eb) => eb.fn.countAll().as('n')).where('seq', '>', seq).where('type', '=', 'notifications.notification.created').executeTakeFirstOrThrow()).n);

  /** A second notifications module over the same database, whose statements (not counting BEGIN and COMMIT) are counted. */
  async function countedService() {
    let statements = 0;
    const counter: KyselyPlugin = { transformQuery: (args) => (statements++, args.node), transformResult: async (args) => args.result };
    const counted = db().withPlugin(counter);
    const module = await createNotificationsModule({ ...t.core, database: { ...t.core.database, db: counted } }, { identity: t.product.identity, learning: t.product.learning });
    return { service: module.service, statements: () => statements };
  }

  it('stores an announcement to 1,200 members per their preferences, in a few statements per 500 of them', async () => {
    const everyone = members(1200, 'b');
    const [offInApp, muted, quiet] = [everyone.slice(0, 5), everyone.slice(5, 10), everyone[10]!];
    for (const u of offInApp) await setPreferences(u, { categories: { announcement: { inApp: false } } });
    for (const u of muted) await setPreferences(u, { muted: true });
    await setPreferences(quiet, { timeZone: 'UTC', quietHours: { start: '09:00', end: '12:00' } });
    const withDevice = everyone.filter((_, i) => i % 2 === 0);
    await addDevices(withDevice);
    const before = await t.core.events.head();

    const { service, statements } = await countedService();
    const stored = await service.deliver(announcement('ann_b1', everyone));

    // Kept out of the inbox: `inApp` off for announcements (they are still emailed and pushed).
    expect(stored).toHaveLength(1195);
    expect(new Set(stored.map((r) => r.user_id))).toEqual(new Set(everyone.slice(5)));
    expect(stored.every((r) => r.category === 'announcement' && r.group_count === 1)).toBe(true);
    expect(await createdEventsSince(before)).toBe(1195);
    const devicesHeard = withDevice.filter((u) => !muted.includes(u)).length;
    expect(await deliveriesOf('announcement:ann_b1')).toEqual({ 'email queued -': 1194, 'email queued quiet-hours': 1, 'push queued -': devicesHeard - (withDevice.includes(quiet) ? 1 : 0), ...(withDevice.includes(quiet) ? { 'push queued quiet-hours': 1 } : {}) });
    expect(await jobsFor('announcement:ann_b1')).toBe(1195 + devicesHeard);
    const held = await db().selectFrom('notifications_delivery').select('not_before').where('user_id', '=', quiet).where('channel', '=', 'email').executeTakeFirstOrThrow();
    expect(held.not_before).toBe('2026-11-22T12:00:00.000Z');
    const event = (await t.core.events.readSince(before, { scopes: [`user:${everyone[700]}`] }))[0]!;
    expect(event).toMatchObject({ type: 'notifications.notification.created', scopes: [`user:${everyone[700]}`], payload: { notification: { category: 'announcement', title: 'Algebra: Exam on Friday', count: 1 } } });

    // One transaction per 500 members, each a handful of statements (about ten per member before batching).
    const transactions = Math.ceil(everyone.length / RECIPIENTS_PER_TRANSACTION);
    expect(statements()).toBeLessThanOrEqual(transactions * 12);
  }, 120_000);

  it('adds nothing when the same entries are delivered again', async () => {
    const everyone = members(600, 'r');
    await addDevices(everyone.slice(0, 100));
    expect(await t.notifications.service.deliver(announcement('ann_b2', everyone))).toHaveLength(600);
    const before = await t.core.events.head();
    const deliveries = await deliveriesOf('announcement:ann_b2');

    expect(await t.notifications.service.deliver(announcement('ann_b2', everyone))).toEqual([]);
    const rows = await db().selectFrom('notifications_notification').select((eb) => eb.fn.countAll().as('n')).where('entity_id', '=', 'ann_b2').executeTakeFirstOrThrow();
    expect(Number(rows.n)).toBe(600);
    expect(await deliveriesOf('announcement:ann_b2')).toEqual(deliveries);
    expect(await jobsFor('announcement:ann_b2')).toBe(700);
    expect(await t.core.events.head()).toBe(before);
  }, 60_000);

  it('folds a batch into unread groups exactly as one at a time, and opens a new group once read', async () => {
    const everyone = members(520, 'g');
    const [reader, first] = [everyone[0]!, everyone[1]!];
    await t.notifications.service.deliver(message(1, [reader, first]));
    const [readRow] = await db().selectFrom('notifications_notification').select('id').where('user_id', '=', reader).execute();
    const read = await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: t.as(reader), payload: { ids: [readRow!.id] } });
    expect(read.json()).toEqual({ updated: 1 });

    // Two events in one call, for 520 members (two transactions): the second folds into the first's entry.
    const stored = await t.notifications.service.deliver([...message(2, everyone), ...message(3, everyone)]);
    expect(stored).toHaveLength(1040);
    const inbox = async (user: string) => (await t.inbox(user, '?category=message')).items;
    expect(await inbox(first)).toEqual([expect.objectContaining({ count: 3, title: '3 new messages', body: 'message 3', read: false })]);
    expect(await inbox(reader)).toEqual([expect.objectContaining({ count: 2, title: '2 new messages', body: 'message 3', read: false }), expect.objectContaining({ count: 1, read: true })]);
    expect(await inbox(everyone[519]!)).toEqual([expect.objectContaining({ count: 2, body: 'message 3', version: 2 })]);
    // An older event arriving late still folds in, but leaves the newest text.
    await t.notifications.service.deliver(message(0, [first]));
    expect(await inbox(first)).toEqual([expect.objectContaining({ count: 4, body: 'message 3' })]);
  }, 60_000);
});

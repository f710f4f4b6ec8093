import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { GOOD_PASSWORD, uniqueEmail } from '../../../test/support/identity.js';
import { notificationsApp, userId, type NotificationsTestApp } from '../../../test/support/notifications.js';
import { until } from '../../../test/support/until.js';

describeEachDialect('notifications: quiet hours and digests follow the profile time zone', (dialect) => {
  let t: NotificationsTestApp;
  beforeAll(async () => {
    t = await notificationsApp({ dialect });
  }, 60_000);
  afterAll(() => t?.destroy());

  /** A real account (the profile lives in identity), with this profile time zone. */
  const account = async (timeZone: string | null) => {
    const user = await t.identity.admin.createAdmin({ email: uniqueEmail('tz'), password: GOOD_PASSWORD, displayName: 'Reader' });
    if (timeZone) await t.identity.service.updateMe(user.id, undefined, { timeZone });
    return user.id;
  };
  const put = (user: string, payload: object) => t.app.inject({ method: 'PUT', url: '/api/v1/notifications/preferences', headers: t.as(user), payload });
  const get = async (user: string) => (await t.app.inject({ method: 'GET', url: '/api/v1/notifications/preferences', headers: t.as(user) })).json();
  let n = 0;
  const comment = (postAuthorId: string) =>
    t.emit({ type: 'community.comment.created', scopes: [`user:${postAuthorId}`], payload: { postId: `pst_tz${++n}`, commentId: `cmt_tz${n}`, authorId: userId('c'), postAuthorId, preview: 'Hello' } });
  const lastDelivery = async (user: string, count: number) => {
    await until(async () => (await t.notifications.channels.deliveries(user)).length === count);
    return (await t.notifications.channels.deliveries(user)).at(-1)!;
  };
  const digestNextAt = async (user: string) =>
    (await t.core.database.db.selectFrom('notifications_preference').select('digest_next_at').where('user_id', '=', user).executeTakeFirstOrThrow()).digest_next_at as string | null;

  it('shows where the zone comes from: the profile, else UTC, and the preferences’ own zone over both', async () => {
    const inNewYork = await account('America/New_York');
    expect(await get(inNewYork)).toMatchObject({ timeZone: 'America/New_York', timeZoneSource: 'profile', version: 0 });
    expect(await get(await account(null))).toMatchObject({ timeZone: 'UTC', timeZoneSource: 'default' });
    expect(await get(userId('ghost'))).toMatchObject({ timeZone: 'UTC', timeZoneSource: 'default' });
    expect((await put(inNewYork, { timeZone: 'europe/paris' })).json()).toMatchObject({ timeZone: 'Europe/Paris', timeZoneSource: 'preferences' });
    expect((await put(inNewYork, { timeZone: null })).json()).toMatchObject({ timeZone: 'America/New_York', timeZoneSource: 'profile' });
    expect((await put(inNewYork, { timeZone: 'Mars/Base' })).json()).toMatchObject({ code: 'NOTIFICATIONS_TIME_ZONE_INVALID' });
  });

  it('quiet hours without a zone of their own are held in the profile time zone; an explicit UTC overrides it', async () => {
    const reader = await account('America/New_York');
    // 08:00 UTC is 03:00 in New York: quiet there (22:00–07:00), not in UTC.
    t.clock.set(Date.parse('2026-11-23T08:00:00.000Z'));
    expect((await put(reader, { quietHours: { start: '22:00', end: '07:00' } })).json()).toMatchObject({ timeZone: 'America/New_York', timeZoneSource: 'profile' });
    await comment(reader);
    expect(await lastDelivery(reader, 1)).toMatchObject({ status: 'queued', reason: 'quiet-hours', not_before: '2026-11-23T12:00:00.000Z' });
    expect((await put(reader, { timeZone: 'UTC' })).json()).toMatchObject({ timeZone: 'UTC', timeZoneSource: 'preferences' });
    await comment(reader);
    expect(await lastDelivery(reader, 2)).toMatchObject({ status: 'queued', reason: null, not_before: '2026-11-23T08:02:00.000Z' });
  });

  it('a daily digest closes at 08:00 in the profile time zone, and moves when the profile zone changes', async () => {
    const reader = await account('Europe/Paris');
    t.clock.set(Date.parse('2026-11-22T10:00:00.000Z')); // 11:00 in Paris, 05:00 in New York
    expect((await put(reader, { digest: { cadence: 'daily', hour: 8 } })).json()).toMatchObject({ timeZone: 'Europe/Paris', timeZoneSource: 'profile' });
    expect(await digestNextAt(reader)).toBe('2026-11-23T07:00:00.000Z');
    await t.identity.service.updateMe(reader, undefined, { timeZone: 'America/New_York' });
    await until(async () => (await digestNextAt(reader)) === '2026-11-22T13:00:00.000Z');
    // A zone set in the preferences is not moved by the profile.
    await put(reader, { timeZone: 'Asia/Tokyo' });
    expect(await digestNextAt(reader)).toBe('2026-11-22T23:00:00.000Z');
    await t.identity.service.updateMe(reader, undefined, { timeZone: 'Europe/Paris' });
    await t.notifications.digests.reschedule(reader); // what the job does (shown above); here without waiting for it
    expect(await digestNextAt(reader)).toBe('2026-11-22T23:00:00.000Z');
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { GOOD_PASSWORD, manualClock, uniqueEmail } from '../../../test/support/identity.js';
import { header, notificationsApp, startSmtpServer, userId, type NotificationsTestApp } from '../../../test/support/notifications.js';
import { until } from '../../../test/support/until.js';
import { localHourOn } from '../../core/time-zone.js';
import { closedWindow, nextWindowEnd } from './digests.windows.js';

const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);

it('digest windows end at the local hour on every date, across daylight-saving changes', () => {
  const time = { hour: 8, weekday: 'monday' as const };
  // Paris leaves summer time on Sunday 2026-10-25: Monday 08:00 is 06:00Z before, 07:00Z after.
  expect(closedWindow('weekly', time, 'Europe/Paris', new Date('2026-10-26T07:00:00.000Z'))).toEqual({ start: new Date('2026-10-19T06:00:00.000Z'), end: new Date('2026-10-26T07:00:00.000Z') });
  expect(closedWindow('weekly', time, 'Europe/Paris', new Date('2026-10-26T06:59:59.000Z')).end).toEqual(new Date('2026-10-19T06:00:00.000Z'));
  expect(closedWindow('daily', time, 'Europe/Paris', new Date('2026-10-25T12:00:00.000Z'))).toEqual({ start: new Date('2026-10-24T06:00:00.000Z'), end: new Date('2026-10-25T07:00:00.000Z') });
  expect(nextWindowEnd('daily', time, 'America/New_York', new Date('2026-11-23T13:00:00.000Z'))).toEqual(new Date('2026-11-24T13:00:00.000Z'));
  expect(nextWindowEnd('daily', { hour: 0, weekday: 'monday' }, 'Asia/Kolkata', new Date('2026-11-23T18:30:00.000Z'))).toEqual(new Date('2026-11-24T18:30:00.000Z'));
  // 02:00 does not exist in Paris on 2026-03-29 (clocks jump to 03:00 at 01:00Z); it occurs twice on 2026-10-25 (the first is kept).
  expect(localHourOn(Date.UTC(2026, 2, 29) / 86_400_000, 2, 'Europe/Paris')).toEqual(new Date('2026-03-29T01:00:00.000Z'));
  expect(localHourOn(Date.UTC(2026, 9, 25) / 86_400_000, 2, 'Europe/Paris')).toEqual(new Date('2026-10-25T00:00:00.000Z'));
});

describeEachDialect('notification digests', (dialect) => {
  let t: NotificationsTestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await notificationsApp({ dialect, clock: manualClock(at('2026-10-20T10:00:00.000Z')), env: { SMTP_URL: smtp.url, PUBLIC_URL: 'https://learn.example.com' } });
  }, 60_000);
  afterAll(async () => {
    await t?.destroy();
    await smtp?.close();
  });

  const account = async () => {
    const email = uniqueEmail('dgs');
    const user = await t.identity.admin.createAdmin({ email, password: GOOD_PASSWORD, displayName: 'Reader' });
    return { id: user.id, email };
  };
  const mailsTo = (email: string) => smtp.received.filter((m) => m.to.includes(email));
  const deliveries = (user: string) => t.notifications.channels.deliveries(user);
  const digests = () => t.notifications.digests;
  let n = 0;
  const comment = async (postAuthorId: string) => {
    const k = ++n;
    await t.emit({ type: 'community.comment.created', scopes: [`user:${postAuthorId}`], payload: { postId: `pst_d${k}`, commentId: `cmt_d${k}`, authorId: userId('c'), postAuthorId, preview: `Digest comment ${k}` } });
    return `Digest comment ${k}`;
  };
  const put = (user: string, payload: object) => t.app.inject({ method: 'PUT', url: '/api/v1/notifications/preferences', headers: t.as(user), payload });
  /** Two digest runs at once, as two workers (or nodes) would; returns how many emails they queued together. */
  const runTwiceAtOnce = async () => (await Promise.all([digests().runDue(), digests().runDue()])).reduce((sum, r) => sum + r.sent, 0);

  it('sends a weekly digest on Monday 08:00 Paris time across the end of summer time, exactly once', async () => {
    const reader = await account();
    t.clock.set(at('2026-10-24T12:00:00.000Z')); // Saturday, 14:00 in Paris (summer time)
    const set = await put(reader.id, { timeZone: 'Europe/Paris', digest: { cadence: 'weekly', weekday: 'monday', hour: 8 } });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().digest).toMatchObject({ cadence: 'weekly', weekday: 'monday', hour: 8 });
    expect(set.json().digest.categories).toMatchObject({ comment: 'weekly', reaction: 'weekly', security: 'off' });

    const body = await comment(reader.id);
    await until(async () => (await t.inbox(reader.id)).items.length === 1 && (await deliveries(reader.id)).length === 1);
    // Not emailed on its own: the decision is recorded, the digest carries it.
    expect((await deliveries(reader.id))[0]).toMatchObject({ channel: 'email', status: 'suppressed', reason: 'digest' });

    // 07:30 in Paris (winter time now): a fixed summer-time offset would already think it is 08:30.
    t.clock.set(at('2026-10-26T06:30:00.000Z'));
    expect((await digests().runDue()).sent).toBe(0);
    await t.settled();
    expect(mailsTo(reader.email)).toHaveLength(0);

    t.clock.set(at('2026-10-26T07:01:30.000Z'));
    await runTwiceAtOnce();
    await until(() => mailsTo(reader.email).length === 1);
    expect((await digests().runDue()).sent).toBe(0); // re-run: nothing more
    await t.settled();
    expect(mailsTo(reader.email)).toHaveLength(1);
    const raw = mailsTo(reader.email)[0]!.data;
    expect(header(raw, 'Subject')).toBe('Your weekly digest: 1 new notification');
    expect(raw).toContain(body);
    const sent = await digests().sentTo(reader.id);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ cadence: 'weekly', window_start: '2026-10-19T06:00:00.000Z', window_end: '2026-10-26T07:00:00.000Z', item_count: 1 });
    expect(sent[0]!.mail_job_id).toBeTruthy();
    expect((await deliveries(reader.id))[0]!.status).toBe('suppressed'); // still never emailed on its own
  });

  it('sends a daily digest at 08:00 Paris time with only what was not seen, once; an empty window sends nothing', async () => {
    const reader = await account();
    t.clock.set(at('2026-11-23T06:00:00.000Z')); // 07:00 in Paris
    const set = await put(reader.id, { timeZone: 'Europe/Paris', digest: { cadence: 'daily', hour: 8, categories: { mention: 'off' } } });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().digest.categories).toMatchObject({ comment: 'daily', mention: 'off', security: 'off' });

    const unseen = await comment(reader.id);
    const seen = await comment(reader.id);
    // A follow is in the inbox but email is off for follows by default: not in the digest either.
    await t.emit({ type: 'community.follow.created', scopes: [`user:${reader.id}`], payload: { followerId: userId('f'), followeeId: reader.id } });
    await until(async () => (await t.inbox(reader.id)).items.length === 3);
    const read = (await t.inbox(reader.id)).items.find((i) => i.body === seen)!;
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: t.as(reader.id), payload: { ids: [read.id] } })).statusCode).toBe(200);

    t.clock.set(at('2026-11-23T07:00:30.000Z')); // the window closed, but within the grace period
    expect((await digests().runDue()).sent).toBe(0);
    t.clock.set(at('2026-11-23T07:01:30.000Z'));
    await runTwiceAtOnce();
    await until(() => mailsTo(reader.email).length === 1);
    await runTwiceAtOnce();
    await t.settled();
    expect(mailsTo(reader.email)).toHaveLength(1);
    const raw = mailsTo(reader.email)[0]!.data;
    expect(header(raw, 'Subject')).toBe('Your daily digest: 1 new notification');
    expect(raw).toContain(unseen);
    expect(raw).not.toContain(seen);
    expect(await digests().sentTo(reader.id)).toMatchObject([{ cadence: 'daily', window_start: '2026-11-22T07:00:00.000Z', window_end: '2026-11-23T07:00:00.000Z', item_count: 1 }]);

    // The next window has nothing new (the unread comment arrived in the previous one): no email.
    t.clock.set(at('2026-11-24T07:01:30.000Z'));
    await runTwiceAtOnce();
    await t.settled();
    expect(mailsTo(reader.email)).toHaveLength(1);
    expect(await digests().sentTo(reader.id)).toHaveLength(1);
  });

  it('a category switched to a digest while its email waited is not emailed on its own; defaults and bad values', async () => {
    const reader = await account();
    t.clock.set(at('2026-11-25T10:00:00.000Z'));
    const first = await t.app.inject({ method: 'GET', url: '/api/v1/notifications/preferences', headers: t.as(reader.id) });
    expect(first.json().digest).toEqual({
      cadence: 'off',
      hour: 8,
      weekday: 'monday',
      categories: { comment: 'off', mention: 'off', message: 'off', reaction: 'off', follow: 'off', enrollment: 'off', grade: 'off', announcement: 'off', security: 'off' },
    });
    await comment(reader.id);
    await until(async () => (await deliveries(reader.id)).length === 1);
    expect((await deliveries(reader.id))[0]).toMatchObject({ status: 'queued' });
    const set = await put(reader.id, { digest: { categories: { comment: 'daily', security: 'daily' } } });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().digest.categories).toMatchObject({ comment: 'daily', mention: 'off', security: 'off' });
    t.clock.advance(2 * MINUTE + 1000);
    await until(async () => (await deliveries(reader.id))[0]!.status !== 'queued');
    expect((await deliveries(reader.id))[0]).toMatchObject({ status: 'suppressed', reason: 'digest' });
    // null: follow the global cadence again.
    const reset = await put(reader.id, { digest: { categories: { comment: null } } });
    expect(reset.json().digest.categories.comment).toBe('off');

    for (const digest of [{ hour: 24 }, { hour: -1 }, { cadence: 'hourly' }, { weekday: 'funday' }, { categories: { gossip: 'daily' } }, { extra: true }, 'daily']) {
      const res = await put(reader.id, { digest });
      expect(res.statusCode, JSON.stringify(digest)).toBe(422);
    }
    expect(mailsTo(reader.email)).toHaveLength(0);
  });

  it('a principal without an account, or with nothing unseen, gets no digest and does not break the run', async () => {
    const ghost = userId('fuzz');
    const quiet = await account();
    t.clock.set(at('2026-11-26T06:00:00.000Z'));
    for (const user of [ghost, quiet.id]) expect((await put(user, { timeZone: 'Europe/Paris', digest: { cadence: 'daily', hour: 8 } })).statusCode).toBe(200);
    await comment(ghost);
    await until(async () => (await t.inbox(ghost)).items.length === 1);
    t.clock.set(at('2026-11-26T07:01:30.000Z'));
    await expect(digests().runDue()).resolves.toMatchObject({ sent: 0 });
    await t.settled();
    expect(await digests().sentTo(ghost)).toHaveLength(0);
    expect(await digests().sentTo(quiet.id)).toHaveLength(0);
    expect(mailsTo(quiet.email)).toHaveLength(0);
  });

  it('carries a one-click unsubscribe (RFC 8058) that turns that digest off, without emailing its categories one by one instead', async () => {
    const reader = await account();
    t.clock.set(at('2026-11-27T06:00:00.000Z')); // 07:00 in Paris
    expect((await put(reader.id, { timeZone: 'Europe/Paris', digest: { cadence: 'daily', hour: 8, categories: { announcement: 'weekly' } } })).statusCode).toBe(200);
    await comment(reader.id);
    await until(async () => (await t.inbox(reader.id)).items.length === 1);
    t.clock.set(at('2026-11-27T07:01:30.000Z'));
    // The scheduled digest job follows the same clock and may handle the window first: either way, one email.
    await digests().runDue();
    await until(() => mailsTo(reader.email).length === 1);
    const raw = mailsTo(reader.email)[0]!.data;
    expect(header(raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    const link = /^<(https:\/\/learn\.example\.com\/api\/v1\/notifications\/unsubscribe\?t=[A-Za-z0-9_.-]+)>$/.exec(header(raw, 'List-Unsubscribe') ?? '');
    expect(link).not.toBeNull();
    expect(raw).toContain('Unsubscribe from this digest');

    // One click, as a mail client does it.
    const url = new URL(link![1]!);
    const res = await t.app.inject({ method: 'POST', url: `${url.pathname}${url.search}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ digest: 'daily', categories: ['comment', 'mention', 'message', 'enrollment', 'grade'] });
    const prefs = (await t.app.inject({ method: 'GET', url: '/api/v1/notifications/preferences', headers: t.as(reader.id) })).json();
    expect(prefs.digest).toMatchObject({ cadence: 'off', categories: { comment: 'off', announcement: 'weekly' } }); // the weekly digest stays
    expect(prefs.categories.comment).toEqual({ inApp: true, email: false, push: true, sms: false });
    expect(prefs.categories.announcement.email).toBe(true);

    // Comments are neither digested nor emailed one by one any more.
    await comment(reader.id);
    await until(async () => (await t.inbox(reader.id)).items.length === 2);
    await t.settled();
    expect((await deliveries(reader.id)).filter((d) => d.status !== 'suppressed')).toHaveLength(0);
    t.clock.set(at('2026-11-28T07:01:30.000Z'));
    expect((await digests().runDue()).sent).toBe(0);
  });
});

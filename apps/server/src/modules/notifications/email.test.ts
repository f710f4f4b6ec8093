import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { GOOD_PASSWORD, uniqueEmail } from '../../../test/support/identity.js';
import { header, notificationsApp, startSmtpServer, userId, type NotificationsTestApp } from '../../../test/support/notifications.js';
import { until } from '../../../test/support/until.js';

const MINUTE = 60_000;

describeEachDialect('notification emails, preferences and quiet hours', (dialect) => {
  let t: NotificationsTestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await notificationsApp({ dialect, env: { SMTP_URL: smtp.url, PUBLIC_URL: 'https://learn.example.com' } });
  }, 60_000);
  afterAll(async () => {
    await t?.destroy();
    await smtp?.close();
  });

  const account = async () => {
    const email = uniqueEmail('ntf');
    const user = await t.identity.admin.createAdmin({ email, password: GOOD_PASSWORD, displayName: 'Reader' });
    return { id: user.id, email };
  };
  const mailsTo = (email: string) => smtp.received.filter((m) => m.to.includes(email));
  const deliveries = (user: string) => t.notifications.channels.deliveries(user);
  const comment = (postAuthorId: string, n: number) =>
    t.emit({ type: 'community.comment.created', scopes: [`user:${postAuthorId}`], payload: { postId: `pst_m${n}`, commentId: `cmt_m${n}`, authorId: userId('c'), postAuthorId, preview: `Nice post <b>${n}</b>` } });
  const put = (user: string, payload: object, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'PUT', url: '/api/v1/notifications/preferences', headers: { ...t.as(user), ...headers }, payload });

  it('emails after the delay through SMTP, in text and HTML, with RFC 8058 one-click unsubscribe headers', async () => {
    const reader = await account();
    await comment(reader.id, 1);
    await until(async () => (await deliveries(reader.id)).length === 1);
    expect((await deliveries(reader.id))[0]).toMatchObject({ channel: 'email', status: 'queued', category: 'comment' });
    t.clock.advance(2 * MINUTE + 1000);
    await until(() => mailsTo(reader.email).length === 1);
    const raw = mailsTo(reader.email)[0]!.data;
    expect(header(raw, 'Subject')).toContain('New comment');
    expect(header(raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    const link = /^<(https:\/\/learn\.example\.com\/api\/v1\/notifications\/unsubscribe\?t=[A-Za-z0-9_.-]+)>$/.exec(header(raw, 'List-Unsubscribe') ?? '');
    expect(link).not.toBeNull();
    expect(raw).toContain('text/plain');
    expect(raw).toContain('text/html');
    expect(raw).toContain('&lt;b&gt;1&lt;/b&gt;'); // user text is escaped in the HTML part
    expect((await deliveries(reader.id))[0]).toMatchObject({ status: 'sent', attempts: 1 });

    // One click (what a mail client does): email for comments is off, the rest stays on.
    const url = new URL(link![1]!);
    const res = await t.app.inject({ method: 'POST', url: `${url.pathname}${url.search}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ category: 'comment', email: false });
    const prefs = (await t.app.inject({ method: 'GET', url: '/api/v1/notifications/preferences', headers: t.as(reader.id) })).json();
    expect(prefs.categories.comment).toEqual({ inApp: true, email: false, push: true, sms: false });
    expect(prefs.categories.mention.email).toBe(true);
    await comment(reader.id, 2);
    await until(async () => (await t.inbox(reader.id)).items[0]?.body === 'Nice post <b>2</b>');
    expect(await deliveries(reader.id)).toHaveLength(1);

    const forged = await t.app.inject({ method: 'POST', url: `${url.pathname}?t=${link![1]!.split('t=')[1]!.slice(0, -3)}abc` });
    expect(forged.statusCode).toBe(404);
  });

  it('does not email what the user read in the app within the delay, and records it as suppressed', async () => {
    const reader = await account();
    await comment(reader.id, 3);
    await until(async () => (await t.inbox(reader.id)).items.length === 1 && (await deliveries(reader.id)).length === 1);
    await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: t.as(reader.id), payload: { all: true } });
    t.clock.advance(2 * MINUTE + 1000);
    await until(async () => (await deliveries(reader.id))[0]!.status !== 'queued');
    expect((await deliveries(reader.id))[0]).toMatchObject({ status: 'suppressed', reason: 'read-in-app' });
    expect(mailsTo(reader.email)).toHaveLength(0);
  });

  it('holds email during quiet hours in the user’s time zone and sends it when they end, never dropping it', async () => {
    const reader = await account();
    // 10:00 UTC is 05:00 in New York: inside 22:00–07:00.
    t.clock.set(Date.parse('2026-11-23T10:00:00.000Z'));
    const set = await put(reader.id, { timeZone: 'America/New_York', quietHours: { start: '22:00', end: '07:00' } });
    expect(set.statusCode, set.body).toBe(200);
    await comment(reader.id, 4);
    await until(async () => (await deliveries(reader.id)).length === 1);
    expect((await deliveries(reader.id))[0]).toMatchObject({ status: 'queued', reason: 'quiet-hours', not_before: '2026-11-23T12:00:00.000Z' });
    t.clock.set(Date.parse('2026-11-23T11:30:00.000Z'));
    await t.settled();
    expect(mailsTo(reader.email)).toHaveLength(0);
    t.clock.set(Date.parse('2026-11-23T12:00:30.000Z'));
    await until(() => mailsTo(reader.email).length === 1);
    expect((await deliveries(reader.id))[0]!.status).toBe('sent');
  });

  it('respects per-channel preferences and the global mute, but security notices always go out', async () => {
    const reader = await account();
    expect((await put(reader.id, { muted: true, categories: { follow: { inApp: false }, security: { email: false } } })).statusCode).toBe(200);
    await t.emit({ type: 'community.follow.created', scopes: [`user:${reader.id}`], payload: { followerId: userId('f'), followeeId: reader.id } });
    await comment(reader.id, 5);
    await t.emit({ type: 'identity.session.revoked', scopes: [`user:${reader.id}`], payload: { userId: reader.id, sessionIds: [], reason: 'password-changed' } });
    await until(async () => (await t.inbox(reader.id)).items.length === 2);
    const items = (await t.inbox(reader.id)).items;
    expect(items.map((i) => i.category).sort()).toEqual(['comment', 'security']); // follow: inApp off
    await until(async () => (await deliveries(reader.id)).length === 1);
    await until(() => mailsTo(reader.email).length === 1); // security: no delay, despite the mute
    const raw = mailsTo(reader.email)[0]!.data;
    expect(header(raw, 'Subject')).toContain('Security notice');
    expect(header(raw, 'List-Unsubscribe')).toBeUndefined();
    expect((await deliveries(reader.id)).map((d) => d.category)).toEqual(['security']);
  });

  it('reads and changes preferences with versions, ETag and If-Match, and refuses bad values', async () => {
    const user = userId('prefs');
    const first = await t.app.inject({ method: 'GET', url: '/api/v1/notifications/preferences', headers: t.as(user) });
    expect(first.json()).toMatchObject({ muted: false, timeZone: 'UTC', quietHours: null, version: 0, alwaysOn: ['security'] });
    expect(first.json().categories.reaction).toEqual({ inApp: true, email: false, push: false, sms: false });
    expect(first.json().categories.security).toEqual({ inApp: true, email: true, push: true, sms: true }); // SMS: security notices only, by default
    expect(first.headers.etag).toBe('"0"');
    const changed = await put(user, { categories: { reaction: { email: true } } }, { 'if-match': '"0"' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ version: 1, categories: { reaction: { inApp: true, email: true, push: false } } });
    expect((await put(user, { muted: true }, { 'if-match': '"0"' })).statusCode).toBe(412);
    expect((await put(user, { timeZone: 'Mars/Olympus' })).statusCode).toBe(422);
    expect((await put(user, { quietHours: { start: '08:00', end: '08:00' } })).statusCode).toBe(422);
    expect((await put(user, { quietHours: { start: '25:00', end: '08:00' } })).statusCode).toBe(422);
    const after = (await t.app.inject({ method: 'GET', url: '/api/v1/notifications/preferences', headers: t.as(user) })).json();
    expect(after).toMatchObject({ version: 1, muted: false });
  });

  it('records a failed delivery when the account is gone', async () => {
    const ghost = userId('ghost');
    await t.emit({ type: 'learning.enrollment.activated', scopes: [`user:${ghost}`], payload: { courseId: 'crs_g', userId: ghost, courseTitle: 'Ghosts' } });
    await until(async () => (await deliveries(ghost)).length === 1);
    t.clock.advance(2 * MINUTE + 1000);
    await until(async () => (await deliveries(ghost))[0]!.status !== 'queued');
    expect((await deliveries(ghost))[0]).toMatchObject({ status: 'failed', reason: 'no-account', attempts: 1 });
  });
});

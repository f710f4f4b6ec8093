import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { notificationsApp, startSmsService, userId, type NotificationsTestApp } from '../../../test/support/notifications.js';
import { until } from '../../../test/support/until.js';
import { SMS_JOB } from './sms.service.js';

const SECOND = 1000;
const credentials = { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: 'twilio-test-token-7c1f' };
let k = 0;
const newPhone = () => `+336123${String(++k).padStart(5, '0')}`;

describeEachDialect('SMS notifications', (dialect) => {
  let t: NotificationsTestApp;
  let provider: Awaited<ReturnType<typeof startSmsService>>;
  beforeAll(async () => {
    provider = await startSmsService(credentials);
    t = await notificationsApp({
      dialect,
      env: {
        PUBLIC_URL: 'https://learn.example.com',
        SMS_PROVIDER: 'twilio',
        TWILIO_ACCOUNT_SID: credentials.accountSid,
        TWILIO_AUTH_TOKEN: credentials.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_BASE_URL: provider.url,
      },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.destroy();
    await provider?.close();
  });

  const setNumber = (user: string, phone: string) => t.app.inject({ method: 'PUT', url: '/api/v1/notifications/sms', headers: t.as(user), payload: { phone } });
  const verify = (user: string, code: string) => t.app.inject({ method: 'POST', url: '/api/v1/notifications/sms/verify', headers: t.as(user), payload: { code } });
  const number = async (user: string) => (await t.app.inject({ method: 'GET', url: '/api/v1/notifications/sms', headers: t.as(user) })).json();
  const textsTo = (phone: string) => provider.received.filter((m) => m.to === phone);
  /** Waits for the verification SMS to `phone` and returns its code. */
  const codeSentTo = async (phone: string, nth = 1) => {
    await until(() => textsTo(phone).length >= nth);
    return /\b(\d{6})\b/.exec(textsTo(phone)[nth - 1]!.body)![1]!;
  };
  const verified = async (user: string) => {
    const phone = newPhone();
    expect((await setNumber(user, phone)).statusCode).toBe(202);
    expect((await verify(user, await codeSentTo(phone))).statusCode).toBe(200);
    t.clock.advance(61 * SECOND); // past the resend cool-down, for tests that ask again
    return phone;
  };
  const smsDeliveries = async (user: string) => (await t.notifications.channels.deliveries(user)).filter((d) => d.channel === 'sms');
  const mention = (user: string, post: string) => t.emit({ type: 'community.mention.created', scopes: [`user:${user}`], payload: { userId: user, authorId: userId('w'), postId: post } });
  const enableSms = (user: string) => t.app.inject({ method: 'PUT', url: '/api/v1/notifications/preferences', headers: t.as(user), payload: { categories: { mention: { sms: true } } } });

  it('sends a code to a new number and uses the number only once the code comes back', async () => {
    const user = userId('v');
    const phone = newPhone();
    const res = await setNumber(user, phone);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ phone: null, verifiedAt: null, pending: { phone: `${phone.slice(0, 3)}${'•'.repeat(phone.length - 5)}${phone.slice(-2)}`, expiresAt: '2026-11-22T10:10:00.000Z' } });
    const code = await codeSentTo(phone);
    // The provider got it with our Basic auth and sender (it refuses anything else).
    expect(textsTo(phone)[0]).toMatchObject({ from: '+15005550006', messagingServiceSid: null });
    // The code is not at rest anywhere: not in the number's row, not in the job that sent it.
    const row = await t.core.database.db.selectFrom('notifications_sms_number').selectAll().where('user_id', '=', user).executeTakeFirstOrThrow();
    const jobs = await t.core.jobs.list({ limit: 100 });
    expect(JSON.stringify(row)).not.toContain(code);
    expect(JSON.stringify(jobs.filter((j) => j.name === 'notifications.sms-code'))).not.toContain(code);

    const wrong = await verify(user, code === '000000' ? '111111' : '000000');
    expect(wrong.json()).toMatchObject({ status: 422, code: 'NOTIFICATIONS_SMS_CODE_INVALID' });
    expect((await number(user)).phone).toBeNull();
    const ok = await verify(user, code);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ phone: expect.stringMatching(/^\+33•+\d\d$/), verifiedAt: '2026-11-22T10:00:00.000Z', pending: null });
    expect(JSON.stringify(await number(user))).not.toContain(phone.slice(3, -2));
    // The verified number again: nothing sent.
    t.clock.advance(61 * SECOND);
    expect((await setNumber(user, phone)).statusCode).toBe(200);
    expect(textsTo(phone)).toHaveLength(1);
    // Removed: nothing is pending or verified any more.
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/notifications/sms', headers: t.as(user) })).statusCode).toBe(204);
    expect(await number(user)).toEqual({ phone: null, verifiedAt: null, pending: null });
    expect((await verify(user, code)).json()).toMatchObject({ status: 409, code: 'NOTIFICATIONS_SMS_NOT_PENDING' });
  });

  it('limits codes: one a minute, five tries each, ten minutes, five a day to one number', async () => {
    const user = userId('l');
    const phone = newPhone();
    expect((await setNumber(user, phone)).statusCode).toBe(202);
    const again = await setNumber(user, phone);
    expect(again.json()).toMatchObject({ status: 429, code: 'NOTIFICATIONS_SMS_RESEND_TOO_SOON' });
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
    const code = await codeSentTo(phone);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 4; i >= 0; i--) expect((await verify(user, wrong)).json().detail).toContain(`${i} ${i === 1 ? 'try' : 'tries'} left`);
    expect((await verify(user, code)).json()).toMatchObject({ status: 422, code: 'NOTIFICATIONS_SMS_CODE_EXPIRED' }); // even the right one, now

    t.clock.advance(61 * SECOND);
    expect((await setNumber(user, phone)).statusCode).toBe(202);
    const second = await codeSentTo(phone, 2);
    t.clock.advance(10 * 60 * SECOND + 1);
    expect((await verify(user, second)).json()).toMatchObject({ status: 422, code: 'NOTIFICATIONS_SMS_CODE_EXPIRED' });

    // Three more accounts ask for the same number: five codes today, the sixth is refused.
    for (const other of [userId('l2'), userId('l3'), userId('l4')]) expect((await setNumber(other, phone)).statusCode).toBe(202);
    const sixth = await setNumber(userId('l5'), phone);
    expect(sixth.json()).toMatchObject({ status: 429, code: 'NOTIFICATIONS_SMS_TOO_MANY_CODES' });
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(23 * 3600);
    await until(() => textsTo(phone).length === 5);
  });

  it('sends notifications by SMS to a verified number when the category asks for it, retrying a 429', async () => {
    const user = userId('s');
    const phone = await verified(user);
    expect((await enableSms(user)).json().categories.mention).toEqual({ inApp: true, email: true, push: true, sms: true });
    provider.answerNext(429);
    const before = provider.requests();
    await mention(user, 'pst_sms1');
    await t.emit({ type: 'community.comment.created', scopes: [`user:${user}`], payload: { postId: 'pst_sms2', commentId: 'cmt_sms2', authorId: userId('c'), postAuthorId: user, preview: 'no SMS for comments' } });
    await until(async () => (await t.inbox(user)).items.length === 2);
    expect(await smsDeliveries(user)).toMatchObject([{ category: 'mention', status: 'queued' }]); // comments: SMS off by default
    t.clock.advance(61 * SECOND);
    await until(async () => (await smsDeliveries(user))[0]!.attempts === 1);
    expect((await smsDeliveries(user))[0]).toMatchObject({ status: 'queued', last_error: expect.stringContaining('429') });
    t.clock.advance(31 * SECOND); // past the first backoff (at most 30 s)
    await until(async () => (await smsDeliveries(user))[0]!.status === 'sent');
    expect((await smsDeliveries(user))[0]).toMatchObject({ attempts: 2 });
    expect(provider.requests() - before).toBe(2);
    const texts = textsTo(phone).slice(1); // after the verification code
    expect(texts).toHaveLength(1);
    expect(texts[0]!.body).toMatch(/mentioned you/);
    expect(texts[0]!.body).toContain('https://learn.example.com/posts/pst_sms1');
  });

  it('records a refused SMS (4xx) as failed without retrying it', async () => {
    const user = userId('f');
    await verified(user);
    await enableSms(user);
    provider.answerNext(400);
    const before = provider.requests();
    await mention(user, 'pst_sms3');
    await until(async () => (await smsDeliveries(user)).length === 1);
    t.clock.advance(61 * SECOND);
    await until(async () => (await smsDeliveries(user))[0]!.status !== 'queued');
    expect((await smsDeliveries(user))[0]).toMatchObject({ status: 'failed', reason: 'provider-refused', attempts: 1, last_error: expect.stringContaining('21610') });
    t.clock.advance(3600 * SECOND);
    await t.settled();
    expect(provider.requests() - before).toBe(1);
  });

  it('sends security notices at once to a verified number, and nothing to a number still being verified', async () => {
    const [sure, unsure] = [userId('sec'), userId('uns')];
    const phone = await verified(sure);
    const pendingPhone = newPhone();
    await setNumber(unsure, pendingPhone);
    for (const user of [sure, unsure]) await t.emit({ type: 'identity.session.revoked', scopes: [`user:${user}`], payload: { userId: user, sessionIds: [], reason: 'password-changed' } });
    await until(() => textsTo(phone).length === 2); // no delay for security notices
    expect(textsTo(phone)[1]!.body).toMatch(/https:\/\/learn\.example\.com\//);
    await until(async () => (await t.inbox(unsure)).items.length === 1);
    await t.settled();
    expect(await smsDeliveries(unsure)).toHaveLength(0);
    expect(textsTo(pendingPhone)).toHaveLength(1); // its verification code only
  });

  it('respects the global mute and in-app reads like the other channels', async () => {
    const [muted, reader] = [userId('m'), userId('r')];
    for (const user of [muted, reader]) {
      await verified(user);
      await enableSms(user);
    }
    await t.app.inject({ method: 'PUT', url: '/api/v1/notifications/preferences', headers: t.as(muted), payload: { muted: true } });
    await mention(muted, 'pst_sms4');
    await mention(reader, 'pst_sms5');
    await until(async () => (await t.inbox(muted)).items.length === 1 && (await smsDeliveries(reader)).length === 1);
    await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: t.as(reader), payload: { all: true } });
    const before = provider.requests();
    t.clock.advance(61 * SECOND);
    await until(async () => (await smsDeliveries(reader))[0]!.status !== 'queued');
    expect((await smsDeliveries(reader))[0]).toMatchObject({ status: 'suppressed', reason: 'read-in-app' });
    expect(await smsDeliveries(muted)).toHaveLength(0);
    expect(provider.requests()).toBe(before);
  });

  it('does not send again when a job is retried after the provider accepted the SMS', async () => {
    const user = userId('d');
    const phone = await verified(user);
    await enableSms(user);
    await mention(user, 'pst_sms6');
    await until(async () => (await smsDeliveries(user)).length === 1);
    t.clock.advance(61 * SECOND);
    await until(async () => (await smsDeliveries(user))[0]!.status === 'sent');
    const [delivery] = await smsDeliveries(user);
    const sent = await t.core.database.db.selectFrom('notifications_delivery_send').selectAll().where('delivery_id', '=', delivery!.id).execute();
    expect(sent).toEqual([expect.objectContaining({ target: 'sms', provider_ref: textsTo(phone)[1]!.sid })]);
    // As if the worker died after the provider's 201, before the delivery was settled: the job runs again.
    await t.core.database.db.updateTable('notifications_delivery').set({ status: 'queued' }).where('id', '=', delivery!.id).execute();
    const before = provider.requests();
    await t.notifications.sms.sendSms({ id: 'job_retry', name: SMS_JOB, payload: { deliveryId: delivery!.id }, attempt: 2, maxAttempts: 6, signal: new AbortController().signal });
    expect(provider.requests()).toBe(before);
    expect((await smsDeliveries(user))[0]).toMatchObject({ status: 'sent' });
  });
});

describeEachDialect('SMS when no provider is configured', (dialect) => {
  let t: NotificationsTestApp;
  beforeAll(async () => {
    t = await notificationsApp({ dialect });
  }, 60_000);
  afterAll(async () => {
    await t?.destroy();
  });

  it('refuses to take a number, and shows none', async () => {
    const user = userId('n');
    const res = await t.app.inject({ method: 'PUT', url: '/api/v1/notifications/sms', headers: t.as(user), payload: { phone: '+33612345678' } });
    expect(res.json()).toMatchObject({ status: 409, code: 'NOTIFICATIONS_SMS_DISABLED' });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/notifications/sms', headers: t.as(user) })).json()).toEqual({ phone: null, verifiedAt: null, pending: null });
    expect((await t.app.inject({ method: 'PUT', url: '/api/v1/notifications/sms', headers: t.as(user), payload: { phone: '0612345678' } })).statusCode).toBe(422);
  });
});

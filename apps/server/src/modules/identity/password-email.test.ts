import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { bearer, GOOD_PASSWORD, identityApp, linkToken, login, mailsTo, me, refresh, register, signUp, uniqueEmail, type IdentityTestApp } from '../../../test/support/identity.js';

describeEachDialect('identity: email verification and password flows', (dialect) => {
  let t: IdentityTestApp;
  beforeAll(async () => {
    t = await identityApp({ dialect });
  });
  afterAll(() => t.destroy());

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url: `/api/v1${url}`, payload: payload as object, headers });

  it('the verification link confirms the address once', async () => {
    const { email } = await register(t);
    const token = await linkToken(t, email, 'verify-email');
    const first = await post('/auth/email/verify', { token });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ email, emailVerified: true });
    const again = await post('/auth/email/verify', { token });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('IDENTITY_TOKEN_INVALID');
  });

  it('an expired verification link is refused', async () => {
    const { email } = await register(t);
    const token = await linkToken(t, email, 'verify-email');
    t.clock.advance(t.config.auth.emailTokenTtl * 1000 + 1);
    expect((await post('/auth/email/verify', { token })).statusCode).toBe(400);
  });

  it('resend has a cool-down: 429 with Retry-After for the signed-in owner, then a new link', async () => {
    const { email, password } = await register(t);
    const accessToken = (await login(t, email, password)).json().accessToken;
    const tooSoon = await post('/auth/email/resend', {}, bearer(accessToken));
    expect(tooSoon.statusCode).toBe(429);
    expect(tooSoon.json().code).toBe('IDENTITY_RESEND_TOO_SOON');
    expect(Number(tooSoon.headers['retry-after'])).toBeGreaterThan(0);
    t.clock.advance(t.config.auth.emailResendCooldown * 1000);
    const ok = await post('/auth/email/resend', {}, bearer(accessToken));
    expect(ok.statusCode).toBe(202);
    expect((await mailsTo(t, email)).filter((m) => m.subject === 'Confirm your email address')).toHaveLength(2);
  });

  it('a resent link replaces the old one', async () => {
    const { email } = await register(t);
    const oldToken = await linkToken(t, email, 'verify-email');
    t.clock.advance(t.config.auth.emailResendCooldown * 1000);
    expect((await post('/auth/email/resend', { email })).statusCode).toBe(202);
    const newToken = await linkToken(t, email, 'verify-email');
    expect(newToken).not.toBe(oldToken);
    expect((await post('/auth/email/verify', { token: oldToken })).statusCode).toBe(400);
    expect((await post('/auth/email/verify', { token: newToken })).statusCode).toBe(200);
  });

  it('forgot-password answers the same for known and unknown addresses, and mails only the known one', async () => {
    const a = await signUp(t);
    const unknown = uniqueEmail();
    const known = await post('/auth/password/forgot', { email: a.email });
    const other = await post('/auth/password/forgot', { email: unknown });
    expect(known.statusCode).toBe(202);
    expect(other.json()).toEqual(known.json());
    expect(await mailsTo(t, unknown)).toHaveLength(0);
    expect((await mailsTo(t, a.email))[0]!.subject).toBe('Reset your password');
  });

  it('a reset link sets a new password once and ends every session', async () => {
    const a = await signUp(t);
    await post('/auth/password/forgot', { email: a.email });
    const token = await linkToken(t, a.email, 'reset-password');
    const res = await post('/auth/password/reset', { token, newPassword: 'a brand new passphrase' });
    expect(res.statusCode).toBe(204);
    expect((await me(t, a.accessToken)).statusCode).toBe(401);
    expect((await refresh(t, a.refreshToken)).statusCode).toBe(401);
    expect((await login(t, a.email, a.password)).statusCode).toBe(401);
    expect((await login(t, a.email, 'a brand new passphrase')).statusCode).toBe(200);
    expect((await post('/auth/password/reset', { token, newPassword: 'yet another passphrase' })).statusCode).toBe(400);
  });

  it('a reset link expires after 30 minutes', async () => {
    const a = await signUp(t);
    await post('/auth/password/forgot', { email: a.email });
    const token = await linkToken(t, a.email, 'reset-password');
    t.clock.advance(30 * 60_000 + 1);
    const res = await post('/auth/password/reset', { token, newPassword: 'a brand new passphrase' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('IDENTITY_TOKEN_INVALID');
  });

  it('a reset still applies the password policy', async () => {
    const a = await signUp(t);
    await post('/auth/password/forgot', { email: a.email });
    const token = await linkToken(t, a.email, 'reset-password');
    expect((await post('/auth/password/reset', { token, newPassword: 'qwertyuiop' })).statusCode).toBe(422);
  });

  it('change password needs the current one', async () => {
    const a = await signUp(t);
    const res = await post('/auth/password/change', { currentPassword: 'not my password', newPassword: 'a brand new passphrase' }, bearer(a.accessToken));
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('AUTH_INVALID_CREDENTIALS');
  });

  it('change password ends every other session and keeps this one', async () => {
    const a = await signUp(t);
    const other = (await login(t, a.email, a.password)).json();
    const res = await post('/auth/password/change', { currentPassword: a.password, newPassword: 'a brand new passphrase' }, bearer(a.accessToken));
    expect(res.statusCode).toBe(204);
    expect((await me(t, a.accessToken)).statusCode).toBe(200);
    expect((await me(t, other.accessToken)).statusCode).toBe(401);
    expect((await login(t, a.email, 'a brand new passphrase')).statusCode).toBe(200);
  });

  it('change email needs the password, mails the new address, and switches on confirmation', async () => {
    const a = await signUp(t);
    const newEmail = uniqueEmail('moved');
    const wrong = await post('/auth/email/change', { password: 'not my password', newEmail }, bearer(a.accessToken));
    expect(wrong.statusCode).toBe(401);
    const res = await post('/auth/email/change', { password: a.password, newEmail }, bearer(a.accessToken));
    expect(res.statusCode).toBe(202);
    expect((await me(t, a.accessToken)).json().email).toBe(a.email); // not before confirmation
    expect((await mailsTo(t, a.email))[0]!.subject).toBe('Email change requested');
    const token = await linkToken(t, newEmail, 'verify-email');
    const confirmed = await post('/auth/email/verify', { token });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toMatchObject({ email: newEmail, emailVerified: true });
    expect((await login(t, newEmail, a.password)).statusCode).toBe(200);
    expect((await login(t, a.email, a.password)).statusCode).toBe(401);
  });

  it('a login that requires a verified email is refused until the address is confirmed', async () => {
    const strict = await identityApp({ dialect, env: { AUTH_VERIFIED_EMAIL_REQUIRED_FOR: 'login' } });
    try {
      const { email } = await register(strict);
      const res = await login(strict, email, GOOD_PASSWORD);
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('AUTH_EMAIL_NOT_VERIFIED');
      await strict.app.inject({ method: 'POST', url: '/api/v1/auth/email/verify', payload: { token: await linkToken(strict, email, 'verify-email') } });
      expect((await login(strict, email, GOOD_PASSWORD)).statusCode).toBe(200);
    } finally {
      await strict.destroy();
    }
  });
});

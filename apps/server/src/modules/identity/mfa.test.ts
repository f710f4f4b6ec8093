import { generate } from 'otplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { bearer, identityApp, login, me, signUp, type IdentityTestApp, type SignedIn } from '../../../test/support/identity.js';

describeEachDialect('identity: TOTP second factor', (dialect) => {
  let t: IdentityTestApp;
  beforeAll(async () => {
    t = await identityApp({ dialect });
  });
  afterAll(() => t.destroy());

  const post = (url: string, payload: object, headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url: `/api/v1${url}`, payload, headers });
  const codeFor = (secret: string) => generate({ secret, epoch: Math.floor(t.clock.now().getTime() / 1000) });

  /** Enrols TOTP for a fresh user; returns the user, the secret and the recovery codes. */
  async function enrolled(): Promise<{ user: SignedIn; secret: string; recoveryCodes: string[] }> {
    const user = await signUp(t);
    const setup = await post('/auth/mfa/totp/setup', { password: user.password }, bearer(user.accessToken));
    expect(setup.statusCode, setup.body).toBe(200);
    const { secret, otpauthUri } = setup.json();
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    const confirm = await post('/auth/mfa/totp/confirm', { code: await codeFor(secret) }, bearer(user.accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    t.clock.advance(30_000); // the enrolment code's step is spent
    return { user, secret, recoveryCodes: confirm.json().recoveryCodes };
  }

  it('enrolment needs the password and a first code, and returns ten recovery codes', async () => {
    const user = await signUp(t);
    expect((await post('/auth/mfa/totp/setup', { password: 'not my password' }, bearer(user.accessToken))).statusCode).toBe(401);
    const { recoveryCodes } = await enrolledFor(user);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect((await me(t, user.accessToken)).json().mfaEnabled).toBe(true);
  });

  async function enrolledFor(user: SignedIn) {
    const { secret } = (await post('/auth/mfa/totp/setup', { password: user.password }, bearer(user.accessToken))).json();
    const wrong = await post('/auth/mfa/totp/confirm', { code: '000000' }, bearer(user.accessToken));
    expect(wrong.statusCode).toBe(401);
    return (await post('/auth/mfa/totp/confirm', { code: await codeFor(secret) }, bearer(user.accessToken))).json();
  }

  it('a password login of an enrolled user returns a challenge instead of tokens', async () => {
    const { user } = await enrolled();
    const res = await login(t, user.email, user.password);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ mfaRequired: true, methods: ['totp', 'recovery-code'] });
    expect(res.json().accessToken).toBeUndefined();
  });

  it('the challenge and a current code open a session', async () => {
    const { user, secret } = await enrolled();
    const { challenge } = (await login(t, user.email, user.password)).json();
    const res = await post('/auth/mfa/totp/verify', { challenge, code: await codeFor(secret) });
    expect(res.statusCode, res.body).toBe(200);
    expect((await me(t, res.json().accessToken)).statusCode).toBe(200);
  });

  it('a code works once, even within its 30 seconds', async () => {
    const { user, secret } = await enrolled();
    const code = await codeFor(secret);
    const first = (await login(t, user.email, user.password)).json().challenge;
    expect((await post('/auth/mfa/totp/verify', { challenge: first, code })).statusCode).toBe(200);
    const second = (await login(t, user.email, user.password)).json().challenge;
    const replay = await post('/auth/mfa/totp/verify', { challenge: second, code });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('AUTH_MFA_INVALID_CODE');
  });

  it('a recovery code works once in place of a TOTP code', async () => {
    const { user, recoveryCodes } = await enrolled();
    const first = (await login(t, user.email, user.password)).json().challenge;
    expect((await post('/auth/mfa/totp/verify', { challenge: first, code: recoveryCodes[0]!.toUpperCase() })).statusCode).toBe(200);
    const second = (await login(t, user.email, user.password)).json().challenge;
    expect((await post('/auth/mfa/totp/verify', { challenge: second, code: recoveryCodes[0]! })).statusCode).toBe(401);
  });

  it('recovery codes and the secret are not stored in the clear', async () => {
    const { user, secret, recoveryCodes } = await enrolled();
    const rows = JSON.stringify([
      await t.core.database.db.selectFrom('identity_totp').selectAll().where('user_id', '=', user.userId).execute(),
      await t.core.database.db.selectFrom('identity_recovery_code').selectAll().where('user_id', '=', user.userId).execute(),
    ]);
    expect(rows).not.toContain(secret);
    for (const code of recoveryCodes) expect(rows).not.toContain(code.replace('-', ''));
  });

  it('five wrong codes spend the challenge', async () => {
    const { user, secret } = await enrolled();
    const { challenge } = (await login(t, user.email, user.password)).json();
    for (let i = 0; i < 5; i++) expect((await post('/auth/mfa/totp/verify', { challenge, code: '123456' })).statusCode).toBe(401);
    const res = await post('/auth/mfa/totp/verify', { challenge, code: await codeFor(secret) });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('AUTH_MFA_CHALLENGE_INVALID');
  });

  it('a challenge expires after five minutes', async () => {
    const { user, secret } = await enrolled();
    const { challenge } = (await login(t, user.email, user.password)).json();
    t.clock.advance(5 * 60_000 + 1);
    expect((await post('/auth/mfa/totp/verify', { challenge, code: await codeFor(secret) })).json().code).toBe('AUTH_MFA_CHALLENGE_INVALID');
  });

  it('disabling needs the password and a code; then the password alone signs in', async () => {
    const { user, secret } = await enrolled();
    const res = await post('/auth/mfa/totp/disable', { password: user.password, code: await codeFor(secret) }, bearer(user.accessToken));
    expect(res.statusCode).toBe(204);
    expect((await login(t, user.email, user.password)).json().accessToken).toBeDefined();
    const audit = await t.core.database.db.selectFrom('identity_audit_event').select('type').where('target_id', '=', user.userId).execute();
    expect(audit.map((a) => a.type)).toEqual(expect.arrayContaining(['mfa.enabled', 'mfa.disabled']));
  });
  const createKey = (accessToken: string) => post('/api-keys', { name: 'script', permissions: ['profile:edit'] }, bearer(accessToken));

  it('sensitive actions need a second factor passed within the step-up window', async () => {
    const { user, secret } = await enrolled();
    // This session began before TOTP was enabled: it never passed a second factor.
    const refused = await createKey(user.accessToken);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('AUTH_STEP_UP_REQUIRED');
    expect(await t.core.database.db.selectFrom('identity_api_key').select('id').where('user_id', '=', user.userId).execute()).toEqual([]);

    expect((await post('/auth/mfa/step-up', { code: '000000' }, bearer(user.accessToken))).statusCode).toBe(401);
    const stepUp = await post('/auth/mfa/step-up', { code: await codeFor(secret) }, bearer(user.accessToken));
    expect(stepUp.statusCode, stepUp.body).toBe(204);
    expect((await createKey(user.accessToken)).statusCode).toBe(201);

    t.clock.advance(t.config.auth.stepUpSeconds * 1000 + 1000);
    const stale = await post('/auth/password/change', { currentPassword: user.password, newPassword: 'another fine passphrase 42' }, bearer(user.accessToken));
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe('AUTH_STEP_UP_REQUIRED');
    expect((await login(t, user.email, user.password)).statusCode).toBe(200); // the password did not change
  });

  it('a sign-in that passed the second factor is fresh; an account without one is never asked', async () => {
    const { user, secret } = await enrolled();
    const { challenge } = (await login(t, user.email, user.password)).json();
    const session = (await post('/auth/mfa/totp/verify', { challenge, code: await codeFor(secret) })).json();
    expect((await createKey(session.accessToken)).statusCode).toBe(201);

    const plain = await signUp(t);
    expect((await createKey(plain.accessToken)).statusCode).toBe(201);
    const stepUp = await post('/auth/mfa/step-up', { code: '123456' }, bearer(plain.accessToken));
    expect(stepUp.json().code).toBe('IDENTITY_MFA_NOT_ENABLED');
  });

  it('step-up allows five attempts per 15 minutes per credential', async () => {
    const { user } = await enrolled();
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await post('/auth/mfa/step-up', { code: '000000' }, bearer(user.accessToken))).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('the OpenAPI document marks the routes that need a fresh second factor', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const marked = Object.entries(doc.paths as Record<string, Record<string, { 'x-fresh-second-factor'?: boolean }>>).flatMap(([path, ops]) =>
      Object.entries(ops).filter(([, op]) => op['x-fresh-second-factor']).map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(marked.sort()).toEqual(
      [
        'POST /api/v1/api-keys',
        'POST /api/v1/auth/password/change',
        'POST /api/v1/auth/email/change',
        'POST /api/v1/auth/passkeys/register/options',
        'DELETE /api/v1/auth/passkeys/{id}',
        'PATCH /api/v1/admin/users/{id}',
        'DELETE /api/v1/admin/users/{id}',
        'DELETE /api/v1/admin/users/{id}/sessions',
        'GET /api/v1/admin/users/{id}/export',
        'POST /api/v1/admin/service-accounts',
        'POST /api/v1/auth/logout-all',
        'DELETE /api/v1/auth/sessions/{id}',
        'POST /api/v1/admin/service-accounts/{id}/api-keys',
      ].sort(),
    );
  });
});

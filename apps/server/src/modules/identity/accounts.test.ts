import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { identityRepo } from './identity.repo.js';
import { bearer, GOOD_PASSWORD, identityApp, login, mailsTo, me, register, signUp, uniqueEmail, type IdentityTestApp } from '../../../test/support/identity.js';
import { createPasswordHasher } from './passwords.js';

/** The hashes argon2 verified a password against, in order: the real library runs, it is only watched. */
const verifications = vi.hoisted(() => [] as string[]);
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const argon2 = await importOriginal<typeof import('@node-rs/argon2')>();
  return { ...argon2, verify: (hash: string, ...rest: [string]) => (verifications.push(hash), argon2.verify(hash, ...rest)) };
});

describeEachDialect('identity: accounts', (dialect) => {
  let t: IdentityTestApp;
  beforeAll(async () => {
    t = await identityApp({ dialect });
  });
  afterAll(() => t.destroy());

  it('register answers the same for a new and a taken email, and tells the owner of the taken one by mail', async () => {
    const email = uniqueEmail();
    const first = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: GOOD_PASSWORD, displayName: 'Ada' } });
    const second = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: email.toUpperCase(), password: 'another fine passphrase', displayName: 'Eve' } });
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual(first.json());
    const mails = await mailsTo(t, email);
    expect(mails.map((m) => m.subject)).toEqual(['Someone tried to register with your address', 'Confirm your email address']);
  });

  it('a password shorter than the minimum is refused with 422', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: uniqueEmail(), password: 'short1!', displayName: 'A' } });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('IDENTITY_PASSWORD_TOO_SHORT');
  });

  it('a common password is refused whatever its case', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: uniqueEmail(), password: 'Password1234', displayName: 'A' } });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('IDENTITY_PASSWORD_TOO_COMMON');
  });

  it('a 200-character Unicode password (emoji, accents, CJK) registers and signs in', async () => {
    const password = 'ümlaut 密码 🦄🔑 '.repeat(14).slice(0, 200);
    const { email } = await register(t, { password });
    const res = await login(t, email, password);
    expect(res.statusCode, res.body).toBe(200);
  });

  it('a one-megabyte password is refused before any hashing', async () => {
    verifications.length = 0;
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: uniqueEmail(), password: 'x'.repeat(1024 * 1024) } });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
    expect(verifications).toEqual([]);
  });

  it('a password just over 1024 characters in a small body is refused by the schema with 422', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: uniqueEmail(), password: 'x'.repeat(1025) } });
    expect(res.statusCode).toBe(422);
  });

  it('a wrong password and an unknown email get the same 401, and both pay for one full argon2 verification', async () => {
    const { email } = await register(t);
    const stored = (await identityRepo(t.core.database.db).findUserByEmail(email))!.password_hash!;
    verifications.length = 0;
    const known = await login(t, email, 'not the password at all');
    expect(verifications).toEqual([stored]);
    verifications.length = 0;
    const unknown = await login(t, uniqueEmail(), 'not the password at all');
    // The unknown account is verified against a hash made with today's parameters, so it costs what a real one does.
    expect(verifications).toHaveLength(1);
    expect(verifications[0]).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(verifications[0]).not.toBe(stored);
    expect(known.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect({ ...unknown.json(), requestId: '' }).toEqual({ ...known.json(), requestId: '' });
  });

  it('passwords are stored as argon2id with the OWASP parameters (m=19456, t=2, p=1)', async () => {
    const { email } = await register(t);
    const user = await identityRepo(t.core.database.db).findUserByEmail(email);
    expect(user!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(user!.password_hash).not.toContain(GOOD_PASSWORD);
  });

  it('a hash made with older parameters is re-hashed at the next login', async () => {
    const { email } = await register(t);
    const repo = identityRepo(t.core.database.db);
    const user = (await repo.findUserByEmail(email))!;
    const weak = await createPasswordHasher({ memoryCost: 4096, timeCost: 1 }).hash(GOOD_PASSWORD);
    await repo.updateUser(user.id, user.version, { password_hash: weak });
    expect((await login(t, email)).statusCode).toBe(200);
    expect((await repo.findUserByEmail(email))!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('GET /me returns the signed-in user with roles, permissions and an ETag', async () => {
    const a = await signUp(t, { displayName: 'Grace' });
    const res = await me(t, a.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe(`"${res.json().version}"`);
    expect(res.json()).toMatchObject({ id: a.userId, email: a.email, emailVerified: true, displayName: 'Grace', roles: ['student'], mfaEnabled: false });
    expect(res.json().permissions).toContain('course:enroll');
    expect(res.json().permissions).not.toContain('user:manage');
  });

  it('PATCH /me changes the display name, and a stale If-Match gets 412', async () => {
    const a = await signUp(t);
    const version = (await me(t, a.accessToken)).json().version as number;
    const ok = await t.app.inject({ method: 'PATCH', url: '/api/v1/me', headers: { ...bearer(a.accessToken), 'if-match': `"${version}"` }, payload: { displayName: 'Renamed' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ displayName: 'Renamed', version: version + 1 });
    const stale = await t.app.inject({ method: 'PATCH', url: '/api/v1/me', headers: { ...bearer(a.accessToken), 'if-match': `"${version}"` }, payload: { displayName: 'Again' } });
    expect(stale.statusCode).toBe(412);
  });

  it('PATCH /me refuses unknown fields (no role escalation through the profile)', async () => {
    const a = await signUp(t);
    const res = await t.app.inject({ method: 'PATCH', url: '/api/v1/me', headers: bearer(a.accessToken), payload: { roles: ['admin'] } });
    expect(res.statusCode).toBe(422);
  });
});

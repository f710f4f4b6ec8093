import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { identityApp, login, signUp, uniqueEmail, type IdentityTestApp } from '../../../test/support/identity.js';

describeEachDialect('identity: brute force', (dialect) => {
  let t: IdentityTestApp;
  beforeAll(async () => {
    t = await identityApp({ dialect, env: { AUTH_LOGIN_LOCK_THRESHOLD: '3', AUTH_LOGIN_LOCK_SECONDS: '30', AUTH_IP_LOCK_THRESHOLD: '20' } });
  });
  afterAll(() => t.destroy());

  const attacker = '203.0.113.7';
  const fail = (email: string, ip: string) => login(t, email, 'wrong password guess', {}, ip);

  it('after three failures the (account, IP) pair is locked, even for the right password', async () => {
    const victim = await signUp(t);
    for (let i = 0; i < 3; i++) expect((await fail(victim.email, attacker)).statusCode).toBe(401);
    const locked = await login(t, victim.email, victim.password, {}, attacker);
    expect(locked.statusCode).toBe(429);
    expect(locked.json().code).toBe('AUTH_LOGIN_LOCKED');
    expect(Number(locked.headers['retry-after'])).toBe(30);
  });

  it('the real user on another IP still gets in while the attacker’s pair is locked', async () => {
    const victim = await signUp(t);
    for (let i = 0; i < 3; i++) await fail(victim.email, '203.0.113.8');
    expect((await login(t, victim.email, victim.password, {}, '198.51.100.20')).statusCode).toBe(200);
  });

  it('each further failure after the lock doubles it', async () => {
    const victim = await signUp(t);
    const ip = '203.0.113.9';
    for (let i = 0; i < 3; i++) await fail(victim.email, ip);
    t.clock.advance(30_000);
    await fail(victim.email, ip);
    const res = await fail(victim.email, ip);
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBe(60);
  });

  it('the lock ends by itself, and a success forgives the pair', async () => {
    const victim = await signUp(t);
    const ip = '203.0.113.10';
    for (let i = 0; i < 3; i++) await fail(victim.email, ip);
    t.clock.advance(31_000);
    expect((await login(t, victim.email, victim.password, {}, ip)).statusCode).toBe(200);
    expect((await fail(victim.email, ip)).statusCode).toBe(401);
  });

  it('unknown emails are throttled exactly like known ones (no enumeration through the lock)', async () => {
    const ip = '203.0.113.11';
    const email = uniqueEmail('ghost');
    for (let i = 0; i < 3; i++) expect((await fail(email, ip)).statusCode).toBe(401);
    expect((await fail(email, ip)).statusCode).toBe(429);
  });

  it('an IP that fails across many accounts is locked out of login', async () => {
    const ip = '203.0.113.12';
    const codes: number[] = [];
    for (let i = 0; i < 21; i++) codes.push((await fail(uniqueEmail('spray'), ip)).statusCode);
    expect(codes.slice(0, 19).every((c) => c === 401)).toBe(true);
    expect(codes.at(-1)).toBe(429);
  });

  it('failed and locked logins are in the audit log with the IP', async () => {
    const victim = await signUp(t);
    const ip = '203.0.113.13';
    for (let i = 0; i < 3; i++) await fail(victim.email, ip);
    const rows = await t.core.database.db.selectFrom('identity_audit_event').selectAll().where('target_id', '=', victim.userId).where('ip', '=', ip).orderBy('id').execute();
    expect(rows.map((r) => r.type)).toEqual(['login.failed', 'login.failed', 'login.locked']);
  });
});

describeEachDialect('identity: auth route rate limits', (dialect) => {
  let t: IdentityTestApp;
  beforeAll(async () => {
    t = await identityApp({ dialect, env: { AUTH_RATE_LIMIT_MAX: '3' } });
  });
  afterAll(() => t.destroy());

  it('login is limited per IP far below the global limit, with RateLimit headers and Retry-After', async () => {
    const codes: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await login(t, uniqueEmail(), 'whatever password', {}, '192.0.2.50');
      codes.push(last.statusCode);
    }
    expect(codes).toEqual([401, 401, 401, 429]);
    expect(last!.json().code).toBe('RATE_LIMITED');
    expect(last!.headers['retry-after']).toBeDefined();
    expect(last!.headers['ratelimit-limit']).toBe('3');
  });

  it('another IP is not affected by the first one’s limit', async () => {
    expect((await login(t, uniqueEmail(), 'whatever password', {}, '192.0.2.51')).statusCode).toBe(401);
  });
});

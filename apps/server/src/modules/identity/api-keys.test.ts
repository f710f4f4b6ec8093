import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { bearer, identityApp, signUp, signUpAdmin, type IdentityTestApp, type SignedIn } from '../../../test/support/identity.js';

describeEachDialect('identity: API keys', (dialect) => {
  let t: IdentityTestApp;
  let admin: SignedIn;
  beforeAll(async () => {
    t = await identityApp({ dialect });
    admin = await signUpAdmin(t);
  });
  afterAll(() => t.destroy());

  const create = (who: SignedIn, payload: object) => t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(who.accessToken), payload });

  it('creating a key answers 201 with Location and shows the lyk_ key once', async () => {
    const user = await signUp(t);
    const res = await create(user, { name: 'ci', permissions: ['course:enroll'] });
    expect(res.statusCode).toBe(201);
    const { apiKey, key } = res.json();
    expect(key).toMatch(/^lyk_[\w-]{43}$/);
    expect(res.headers.location).toBe(`/api/v1/api-keys/${apiKey.id}`);
    expect(apiKey).toMatchObject({ name: 'ci', permissions: ['course:enroll'], prefix: key.slice(0, 12), lastUsedAt: null, expiresAt: null });
    const listed = await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: bearer(user.accessToken) });
    expect(listed.json().items.map((k: { id: string }) => k.id)).toEqual([apiKey.id]);
    expect(listed.body).not.toContain(key);
  });

  it('keys are stored only as hashes', async () => {
    const user = await signUp(t);
    const { key } = (await create(user, { name: 'x', permissions: [] })).json();
    const rows = await t.core.database.db.selectFrom('identity_api_key').selectAll().where('user_id', '=', user.userId).execute();
    expect(JSON.stringify(rows)).not.toContain(key.slice(12));
  });

  it('a key works as a bearer token with exactly its permissions', async () => {
    const { key } = (await create(admin, { name: 'auditor', permissions: ['audit:read'] })).json();
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit-events', headers: bearer(key) })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/users', headers: bearer(key) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key) })).json().id).toBe(admin.userId);
  });

  it('a key cannot carry a permission its owner lacks', async () => {
    const user = await signUp(t);
    const res = await create(user, { name: 'escalate', permissions: ['user:manage'] });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('IDENTITY_PERMISSION_NOT_HELD');
  });

  it('a key cannot mint another key', async () => {
    const user = await signUp(t);
    const { key } = (await create(user, { name: 'k', permissions: ['course:enroll'] })).json();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(key), payload: { name: 'child', permissions: [] } });
    expect(res.statusCode).toBe(403);
  });

  it('a key cannot manage the account: no ending sessions, no listing keys, no password change', async () => {
    const user = await signUp(t);
    const { key } = (await create(user, { name: 'scoped', permissions: ['course:enroll'] })).json();
    const calls = [
      { method: 'POST', url: '/api/v1/auth/logout-all' },
      { method: 'GET', url: '/api/v1/auth/sessions' },
      { method: 'GET', url: '/api/v1/api-keys' },
      { method: 'POST', url: '/api/v1/auth/password/change', payload: { currentPassword: user.password, newPassword: 'a brand new passphrase' } },
    ] as const;
    for (const call of calls) {
      const res = await t.app.inject({ ...call, headers: bearer(key) });
      expect(res.statusCode, call.url).toBe(403);
      expect(res.json().code).toBe('AUTH_SESSION_REQUIRED');
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(user.accessToken) })).statusCode).toBe(200);
  });

  it('an expired key is refused', async () => {
    const user = await signUp(t);
    const expiresAt = new Date(t.clock.now().getTime() + 3600_000).toISOString();
    const { key } = (await create(user, { name: 'short', permissions: [], expiresAt })).json();
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key) })).statusCode).toBe(200);
    t.clock.advance(3600_001);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key) })).statusCode).toBe(401);
  });

  it('a revoked key stops working at once', async () => {
    const user = await signUp(t);
    const { apiKey, key } = (await create(user, { name: 'temp', permissions: [] })).json();
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key) })).statusCode).toBe(200);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${apiKey.id}`, headers: bearer(user.accessToken) });
    expect(del.statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key) })).statusCode).toBe(401);
  });

  it('last use is recorded', async () => {
    const user = await signUp(t);
    const { apiKey, key } = (await create(user, { name: 'used', permissions: [] })).json();
    await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key) });
    await expect.poll(async () => (await t.app.inject({ method: 'GET', url: `/api/v1/api-keys/${apiKey.id}`, headers: bearer(user.accessToken) })).json().lastUsedAt).toBe(t.clock.now().toISOString());
  });

  it('user A can neither read nor revoke user B’s keys', async () => {
    const a = await signUp(t);
    const b = await signUp(t);
    const { apiKey, key } = (await create(b, { name: 'b-key', permissions: [] })).json();
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/api-keys/${apiKey.id}`, headers: bearer(a.accessToken) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${apiKey.id}`, headers: bearer(a.accessToken) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: bearer(a.accessToken) })).json().items).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key) })).statusCode).toBe(200);
  });

  it('an unknown lyk_ key is 401', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(`lyk_${'a'.repeat(43)}`) })).statusCode).toBe(401);
  });

  it('a demoted owner’s key shrinks with them', async () => {
    const teacher = await signUp(t);
    const adminToken = (await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: admin.email, password: admin.password } })).json().accessToken;
    await t.app.inject({ method: 'PATCH', url: `/api/v1/admin/users/${teacher.userId}`, headers: bearer(adminToken), payload: { roles: ['teacher'] } });
    const relogged = (await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: teacher.email, password: teacher.password } })).json();
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(relogged.accessToken), payload: { name: 't', permissions: ['course:create'] } });
    expect(created.statusCode, created.body).toBe(201);
    const { key } = created.json();
    await t.app.inject({ method: 'PATCH', url: `/api/v1/admin/users/${teacher.userId}`, headers: bearer(adminToken), payload: { roles: ['student'] } });
    const principal = await t.identity.apiKeys.authenticate(key);
    expect(principal.permissions.has('course:create')).toBe(false);
  });
});

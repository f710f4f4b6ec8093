import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { bearer, identityApp, login, mailsTo, signUp, signUpAdmin, type IdentityTestApp, type SignedIn } from '../../../test/support/identity.js';

describeEachDialect('identity: service accounts', (dialect) => {
  let t: IdentityTestApp;
  let admin: SignedIn;
  beforeAll(async () => {
    t = await identityApp({ dialect });
    admin = await signUpAdmin(t);
  });
  afterAll(() => t.destroy());

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });

  async function serviceAccount(roles: string[]) {
    const res = await call('POST', '/admin/service-accounts', admin.accessToken, { displayName: 'SIS sync', roles });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; email: string; kind: string; roles: string[] };
  }

  it('an admin creates a service account and issues it a key that works with only the permissions asked for', async () => {
    const account = await serviceAccount(['admin']);
    expect(account).toMatchObject({ kind: 'service', roles: ['admin'] });
    const issued = await call('POST', `/admin/service-accounts/${account.id}/api-keys`, admin.accessToken, { name: 'audit export', permissions: ['audit:read'] });
    expect(issued.statusCode, issued.body).toBe(201);
    const key = issued.json().key as string;
    expect(key).toMatch(/^lyk_/);
    expect((await call('GET', '/admin/audit-events', key)).statusCode).toBe(200);
    expect((await call('GET', '/admin/users', key)).statusCode).toBe(403);

    const audit = await t.core.database.db.selectFrom('identity_audit_event').selectAll().where('type', '=', 'apikey.created').where('target_id', '=', account.id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_id).toBe(admin.userId);

    const listed = await call('GET', '/admin/users?kind=service', admin.accessToken);
    expect(listed.json().items.map((u: { id: string }) => u.id)).toContain(account.id);
    expect(listed.json().items.every((u: { kind: string }) => u.kind === 'service')).toBe(true);
  });

  it("a key never carries more than the service account's roles allow", async () => {
    const account = await serviceAccount(['teacher']);
    const res = await call('POST', `/admin/service-accounts/${account.id}/api-keys`, admin.accessToken, { name: 'too much', permissions: ['user:manage'] });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('IDENTITY_PERMISSION_NOT_HELD');
  });

  it('keys are listed and revoked by admins, and a revoked key stops working at once', async () => {
    const account = await serviceAccount(['admin']);
    const { apiKey, key } = (await call('POST', `/admin/service-accounts/${account.id}/api-keys`, admin.accessToken, { name: 'temp', permissions: ['audit:read'] })).json();
    const list = await call('GET', `/admin/service-accounts/${account.id}/api-keys`, admin.accessToken);
    expect(list.json().items.map((k: { id: string }) => k.id)).toEqual([apiKey.id]);
    expect((await call('DELETE', `/admin/service-accounts/${account.id}/api-keys/${apiKey.id}`, admin.accessToken)).statusCode).toBe(204);
    expect((await call('GET', '/admin/audit-events', key)).statusCode).toBe(401);
  });

  it('a service account cannot sign in or receive mail, and only admins manage them', async () => {
    const account = await serviceAccount(['student']);
    expect((await login(t, account.email, 'any password at all 123')).statusCode).toBe(401);
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/password/forgot', payload: { email: account.email } });
    expect(await mailsTo(t, account.email)).toEqual([]);

    const student = await signUp(t);
    expect((await call('POST', '/admin/service-accounts', student.accessToken, { displayName: 'mine', roles: ['admin'] })).statusCode).toBe(403);
    expect((await call('POST', `/admin/service-accounts/${account.id}/api-keys`, student.accessToken, { name: 'x', permissions: [] })).statusCode).toBe(403);
    // A person is not a service account: an admin cannot mint keys for someone's personal account.
    const forPerson = await call('POST', `/admin/service-accounts/${student.userId}/api-keys`, admin.accessToken, { name: 'x', permissions: ['profile:edit'] });
    expect(forPerson.statusCode).toBe(404);
    expect(await t.core.database.db.selectFrom('identity_api_key').select('id').where('user_id', '=', student.userId).execute()).toEqual([]);
  });
});

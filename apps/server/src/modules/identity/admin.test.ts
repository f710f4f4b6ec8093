import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { bearer, GOOD_PASSWORD, identityApp, login, me, signUp, signUpAdmin, uniqueEmail, type IdentityTestApp, type SignedIn } from '../../../test/support/identity.js';
import { ROLE_PERMISSIONS } from './permissions.js';

describeEachDialect('identity: roles and admin user management', (dialect) => {
  let t: IdentityTestApp;
  let admin: SignedIn;
  beforeAll(async () => {
    t = await identityApp({ dialect });
    admin = await signUpAdmin(t);
  });
  afterAll(() => t.destroy());

  const as = (who: SignedIn) => bearer(who.accessToken);
  const patchUser = (id: string, payload: object, who = admin) => t.app.inject({ method: 'PATCH', url: `/api/v1/admin/users/${id}`, headers: as(who), payload });

  it('admins hold core’s jobs:manage and metrics:read besides user:manage', () => {
    expect(ROLE_PERMISSIONS.admin).toEqual(expect.arrayContaining(['user:manage', 'audit:read', 'jobs:manage', 'metrics:read']));
    expect(ROLE_PERMISSIONS.student).not.toContain('user:manage');
  });

  it('a student gets 403 on the admin routes', async () => {
    const student = await signUp(t);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/admin/users', headers: as(student) });
    expect(res.statusCode).toBe(403);
  });

  it('an admin lists users newest first, searches by email or name, and pages with a cursor', async () => {
    const marker = `zebra${Date.now()}`;
    await signUp(t, { displayName: `${marker} one` });
    await signUp(t, { displayName: `${marker} two` });
    const page1 = (await t.app.inject({ method: 'GET', url: `/api/v1/admin/users?q=${marker}&limit=1`, headers: as(admin) })).json();
    expect(page1.items.map((u: { displayName: string }) => u.displayName)).toEqual([`${marker} two`]);
    const page2 = (await t.app.inject({ method: 'GET', url: `/api/v1/admin/users?q=${marker}&limit=1&cursor=${encodeURIComponent(page1.nextCursor)}`, headers: as(admin) })).json();
    expect(page2.items.map((u: { displayName: string }) => u.displayName)).toEqual([`${marker} one`]);
    expect(page2.nextCursor).toBeNull();
  });

  it('search treats % and _ literally', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/admin/users?q=%25', headers: as(admin) });
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toEqual([]);
  });

  it('a role change ends the user’s sessions, and the next login carries the new roles', async () => {
    const user = await signUp(t);
    const res = await patchUser(user.userId, { roles: ['student', 'teacher'] });
    expect(res.statusCode).toBe(200);
    expect(res.json().roles).toEqual(['student', 'teacher']);
    expect((await me(t, user.accessToken)).statusCode).toBe(401);
    const again = (await login(t, user.email, user.password)).json();
    expect((await me(t, again.accessToken)).json().permissions).toContain('course:create');
  });

  it('disabling ends the sessions and refuses sign-in; enabling lets the user back', async () => {
    const user = await signUp(t);
    expect((await patchUser(user.userId, { status: 'disabled' })).statusCode).toBe(200);
    expect((await me(t, user.accessToken)).statusCode).toBe(401);
    const refused = await login(t, user.email, user.password);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('AUTH_ACCOUNT_DISABLED');
    await patchUser(user.userId, { status: 'active' });
    expect((await login(t, user.email, user.password)).statusCode).toBe(200);
  });

  it('PATCH honours If-Match', async () => {
    const user = await signUp(t);
    const res = await t.app.inject({ method: 'PATCH', url: `/api/v1/admin/users/${user.userId}`, headers: { ...as(admin), 'if-match': '"999"' }, payload: { displayName: 'X' } });
    expect(res.statusCode).toBe(412);
  });

  it('the last active administrator cannot be demoted', async () => {
    const solo = await identityApp({ dialect });
    try {
      const only = await signUpAdmin(solo);
      const res = await solo.app.inject({ method: 'PATCH', url: `/api/v1/admin/users/${only.userId}`, headers: bearer(only.accessToken), payload: { roles: ['student'] } });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('IDENTITY_LAST_ADMIN');
    } finally {
      await solo.destroy();
    }
  });

  it('an admin ends all of a user’s sessions', async () => {
    const user = await signUp(t);
    const res = await t.app.inject({ method: 'DELETE', url: `/api/v1/admin/users/${user.userId}/sessions`, headers: as(admin) });
    expect(res.statusCode).toBe(204);
    expect((await me(t, user.accessToken)).statusCode).toBe(401);
  });

  it('deleting a user erases the personal data, ends access and announces identity.user.deleted', async () => {
    const user = await signUp(t, { displayName: 'Forget Me' });
    const before = await t.core.events.head();
    const res = await t.app.inject({ method: 'DELETE', url: `/api/v1/admin/users/${user.userId}`, headers: as(admin) });
    expect(res.statusCode).toBe(204);
    expect((await me(t, user.accessToken)).statusCode).toBe(401);
    expect((await login(t, user.email, user.password)).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/admin/users/${user.userId}`, headers: as(admin) })).statusCode).toBe(404);
    const row = await t.core.database.db.selectFrom('identity_user').selectAll().where('id', '=', user.userId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'deleted', display_name: 'Deleted user', password_hash: null });
    expect(row.email).not.toContain(user.email.split('@')[0]);
    const audit = await t.core.database.db.selectFrom('identity_audit_event').selectAll().where('target_id', '=', user.userId).where('type', '!=', 'admin.user.deleted').execute();
    expect(audit.every((a) => a.ip === null && a.user_agent === null)).toBe(true);
    const events = await t.core.events.readSince(before);
    expect(events.map((e) => e.type)).toContain('identity.user.deleted');
    // The address can be registered again.
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: user.email, password: GOOD_PASSWORD, displayName: 'New' } })).statusCode).toBe(202);
  });

  it('exports a user’s data as JSON', async () => {
    const user = await signUp(t, { displayName: 'Export Me' });
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/admin/users/${user.userId}/export`, headers: as(admin) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toContain('attachment');
    const data = res.json();
    expect(data.user).toMatchObject({ id: user.userId, displayName: 'Export Me' });
    expect(data.sessions.map((s: { id: string }) => s.id)).toContain(user.sessionId);
    expect(data.auditEvents.map((e: { type: string }) => e.type)).toContain('login.succeeded');
    expect(JSON.stringify(data)).not.toMatch(/argon2|lyr_/);
  });

  it('the audit log shows admin actions with actor, target, IP and user agent', async () => {
    const user = await signUp(t);
    await t.app.inject({ method: 'PATCH', url: `/api/v1/admin/users/${user.userId}`, headers: { ...as(admin), 'user-agent': 'AdminConsole/2' }, payload: { roles: ['teacher'] } });
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/admin/audit-events?userId=${user.userId}&type=admin.roles.changed`, headers: as(admin) });
    expect(res.statusCode).toBe(200);
    expect(res.json().items[0]).toMatchObject({ type: 'admin.roles.changed', actorId: admin.userId, targetId: user.userId, ip: '127.0.0.1', userAgent: 'AdminConsole/2', details: { from: ['student'], to: ['teacher'] } });
  });

  it('a student cannot read the audit log', async () => {
    const student = await signUp(t);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit-events', headers: as(student) })).statusCode).toBe(403);
  });
});

describeEachDialect('identity: the first administrator', (dialect) => {
  let t: IdentityTestApp;
  beforeAll(async () => {
    t = await identityApp({ dialect });
  });
  afterAll(() => t.destroy());

  const setup = (setupToken: string, email = uniqueEmail('first')) =>
    t.app.inject({ method: 'POST', url: '/api/v1/admin/setup', payload: { setupToken, email, password: GOOD_PASSWORD, displayName: 'First' } });

  it('a wrong setup token is refused', async () => {
    const res = await setup('lys_wrong-token-value');
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('IDENTITY_SETUP_TOKEN_INVALID');
  });

  it('the setup token creates the first admin once, and never again', async () => {
    const token = await t.identity.setupToken();
    const email = uniqueEmail('first');
    const res = await setup(token, email);
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/admin/users/${res.json().id}`);
    expect(res.json().roles).toEqual(['admin']);
    const signedIn = (await login(t, email)).json();
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/users', headers: bearer(signedIn.accessToken) })).statusCode).toBe(200);
    const again = await setup(token);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('IDENTITY_SETUP_UNAVAILABLE');
  });

  it('lyceum create-admin creates an administrator from the console', async () => {
    const email = uniqueEmail('cli');
    const writes: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      await t.identity.cli!['create-admin']!(['--email', email, '--name', 'Console Admin']);
    } finally {
      process.stdout.write = original;
    }
    const password = /Password: (\S+)/.exec(writes.join(''))![1]!;
    const res = await login(t, email, password);
    expect(res.statusCode).toBe(200);
    expect(res.json().user.roles).toEqual(['admin']);
  });
});

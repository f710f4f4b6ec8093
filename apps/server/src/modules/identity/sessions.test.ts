import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import { identityRepo } from './identity.repo.js';
import { bearer, identityApp, login, me, refresh, signUp, type IdentityTestApp } from '../../../test/support/identity.js';

describeEachDialect('identity: sessions and refresh tokens', (dialect) => {
  let t: IdentityTestApp;
  beforeAll(async () => {
    t = await identityApp({ dialect, background: true });
  });
  afterAll(() => t.destroy());

  const unusedTokens = (sessionId: string) => identityRepo(t.core.database.db).unusedRefreshTokens(sessionId);

  it('a refresh rotates the refresh token and issues a working access token', async () => {
    const a = await signUp(t);
    const res = await refresh(t, a.refreshToken);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.refreshToken).toMatch(/^lyr_/);
    expect(body.refreshToken).not.toBe(a.refreshToken);
    expect(body.sessionId).toBe(a.sessionId);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await me(t, body.accessToken)).statusCode).toBe(200);
  });

  it('refresh tokens are stored only as hashes', async () => {
    const a = await signUp(t);
    const rows = await t.core.database.db.selectFrom('identity_refresh_token').selectAll().where('session_id', '=', a.sessionId).execute();
    expect(JSON.stringify(rows)).not.toContain(a.refreshToken);
    expect(JSON.stringify(rows)).not.toContain(a.refreshToken.slice(4));
  });

  it('retrying the previous token within the grace window returns the same successor', async () => {
    const a = await signUp(t);
    const first = (await refresh(t, a.refreshToken)).json();
    t.clock.advance(10_000);
    const retry = await refresh(t, a.refreshToken);
    expect(retry.statusCode).toBe(200);
    expect(retry.json().refreshToken).toBe(first.refreshToken);
    expect((await refresh(t, first.refreshToken)).statusCode).toBe(200);
  });

  it('twenty parallel refreshes with one token leave exactly one live successor chain', async () => {
    const a = await signUp(t);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(t, a.refreshToken)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    const successors = new Set(results.map((r) => r.json().refreshToken));
    expect(successors.size).toBe(1);
    const unused = await unusedTokens(a.sessionId);
    expect(unused).toHaveLength(1);
    const [successor] = [...successors];
    const next = await refresh(t, successor!);
    expect(next.statusCode).toBe(200);
    expect(await unusedTokens(a.sessionId)).toHaveLength(1);
  });

  it('reusing a refresh token after the grace window revokes the whole session family', async () => {
    const a = await signUp(t);
    const rotated = (await refresh(t, a.refreshToken)).json();
    t.clock.advance(31_000);
    const replay = await refresh(t, a.refreshToken);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('AUTH_REFRESH_REUSED');
    // Both the legitimate successor and every access token of the session are dead now.
    expect((await refresh(t, rotated.refreshToken)).statusCode).toBe(401);
    expect((await me(t, rotated.accessToken)).statusCode).toBe(401);
    expect((await me(t, a.accessToken)).statusCode).toBe(401);
  });

  it('retrying a token two generations old, even within the grace window, revokes the family', async () => {
    const a = await signUp(t);
    const gen1 = (await refresh(t, a.refreshToken)).json();
    const gen2 = (await refresh(t, gen1.refreshToken)).json();
    const replay = await refresh(t, a.refreshToken);
    expect(replay.statusCode).toBe(401);
    expect((await refresh(t, gen2.refreshToken)).statusCode).toBe(401);
  });

  it('an unknown refresh token is refused without touching any session', async () => {
    const a = await signUp(t);
    const res = await refresh(t, `lyr_${'A'.repeat(43)}`);
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('AUTH_REFRESH_INVALID');
    expect((await me(t, a.accessToken)).statusCode).toBe(200);
  });

  it('logout makes the access token fail immediately', async () => {
    const a = await signUp(t);
    expect((await me(t, a.accessToken)).statusCode).toBe(200);
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(a.accessToken) });
    expect(out.statusCode).toBe(204);
    const after = await me(t, a.accessToken);
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('AUTH_SESSION_ENDED');
    expect((await refresh(t, a.refreshToken)).statusCode).toBe(401);
  });

  it('logout appends identity.session.revoked in the same transaction', async () => {
    const a = await signUp(t);
    const before = await t.core.events.head();
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(a.accessToken) });
    const events = await t.core.events.readSince(before);
    expect(events.map((e) => [e.type, e.scopes, e.payload])).toEqual([['identity.session.revoked', [`user:${a.userId}`], { userId: a.userId, sessionIds: [a.sessionId], reason: 'logout' }]]);
  });

  it('logout-all ends every session of the caller', async () => {
    const a = await signUp(t);
    const second = (await login(t, a.email, a.password)).json();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: bearer(a.accessToken) });
    expect(res.json()).toEqual({ sessionsEnded: 2 });
    expect((await me(t, a.accessToken)).statusCode).toBe(401);
    expect((await me(t, second.accessToken)).statusCode).toBe(401);
  });

  it('GET /auth/sessions lists the caller’s sessions with device, user agent, IP and which one is current', async () => {
    const a = await signUp(t);
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a.email, password: a.password, device: 'Pixel 9' }, headers: { 'user-agent': 'LyceumApp/1.0' } });
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions?limit=1', headers: bearer(a.accessToken) });
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ device: 'Pixel 9', userAgent: 'LyceumApp/1.0', ip: '127.0.0.1', current: false });
    const next = (await t.app.inject({ method: 'GET', url: `/api/v1/auth/sessions?cursor=${encodeURIComponent(page.nextCursor)}`, headers: bearer(a.accessToken) })).json();
    expect(next.items.map((s: { id: string; current: boolean }) => [s.id, s.current])).toEqual([[a.sessionId, true]]);
    expect(next.nextCursor).toBeNull();
  });

  it('user A can neither list nor end user B’s sessions', async () => {
    const a = await signUp(t);
    const b = await signUp(t);
    const listed = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: bearer(a.accessToken) })).json();
    expect(listed.items.map((s: { id: string }) => s.id)).not.toContain(b.sessionId);
    const end = await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${b.sessionId}`, headers: bearer(a.accessToken) });
    expect(end.statusCode).toBe(404);
    expect((await me(t, b.accessToken)).statusCode).toBe(200);
  });

  it('DELETE /auth/sessions/{id} ends one of the caller’s other sessions', async () => {
    const a = await signUp(t);
    const other = (await login(t, a.email, a.password)).json();
    const res = await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${other.sessionId}`, headers: bearer(a.accessToken) });
    expect(res.statusCode).toBe(204);
    expect((await me(t, other.accessToken)).statusCode).toBe(401);
    expect((await me(t, a.accessToken)).statusCode).toBe(200);
  });

  it('a session unused for longer than the idle timeout cannot be refreshed', async () => {
    const a = await signUp(t);
    t.clock.advance(t.config.auth.sessionIdleTimeout * 1000 + 1000);
    const res = await refresh(t, a.refreshToken);
    expect(res.statusCode).toBe(401);
  });

  it('a session ends at its absolute lifetime however active it is', async () => {
    const a = await signUp(t);
    let token = a.refreshToken;
    const step = (t.config.auth.sessionIdleTimeout * 1000) / 2;
    const end = t.clock.now().getTime() + t.config.auth.sessionMaxAge * 1000;
    while (t.clock.now().getTime() + step < end) {
      t.clock.advance(step);
      const res = await refresh(t, token);
      expect(res.statusCode).toBe(200);
      token = res.json().refreshToken;
    }
    t.clock.advance(step);
    expect((await refresh(t, token)).statusCode).toBe(401);
  });

  it('web clients get the refresh token as an HttpOnly, Secure, SameSite=Strict cookie scoped to /api/v1/auth', async () => {
    const a = await signUp(t);
    const res = await login(t, a.email, a.password, { refreshTransport: 'cookie' });
    expect(res.statusCode).toBe(200);
    expect(res.json().refreshToken).toBeUndefined();
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^__Secure-lyceum-refresh=lyr_[\w-]+; Path=\/api\/v1\/auth; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/);
  });

  it('a refresh by cookie needs the X-CSRF header', async () => {
    const a = await signUp(t);
    const cookie = String((await login(t, a.email, a.password, { refreshTransport: 'cookie' })).headers['set-cookie']).split(';')[0]!;
    const forged = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: { cookie } });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().code).toBe('AUTH_CSRF_REQUIRED');
    const ok = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: { cookie, 'x-csrf': '1' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().refreshToken).toBeUndefined();
    expect(String(ok.headers['set-cookie'])).toMatch(/^__Secure-lyceum-refresh=lyr_/);
    expect(String(ok.headers['set-cookie']).split(';')[0]).not.toBe(cookie);
  });

  it('a login with an Idempotency-Key is not stored for replay (tokens never rest in the idempotency table)', async () => {
    const a = await signUp(t);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'idempotency-key': 'login-1' }, payload: { email: a.email, password: a.password } });
    expect(res.statusCode).toBe(200);
    const stored = await t.core.database.db.selectFrom('core_idempotency').selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain(res.json().refreshToken);
  });

  it('a session ended on node A is refused on node B within a second', async () => {
    const nodeB = await buildApp({ config: t.config, clock: t.clock, logger: false });
    await nodeB.startBackground();
    try {
      const a = await signUp(t);
      const onB = () => nodeB.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(a.accessToken) });
      expect((await onB()).statusCode).toBe(200); // node B now holds the session as live in its cache
      await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(a.accessToken) });
      const started = performance.now();
      let status = 200;
      while (status === 200 && performance.now() - started < 2000) {
        status = (await onB()).statusCode;
        if (status === 200) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(status).toBe(401);
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      await nodeB.close();
    }
  });
});

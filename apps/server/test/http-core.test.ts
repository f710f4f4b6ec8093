import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/core/config/config.js';
import { defineModule } from '../src/core/module.js';
import { createTestApp, type TestApp } from './support/app.js';
import { describeEachDialect } from './support/databases.js';
import { createWidgetsModule } from './support/widgets/widgets.module.js';

const alice = { authorization: 'Bearer test:usr_alice' };
const bob = { authorization: 'Bearer test:usr_bob' };
const admin = { authorization: 'Bearer test:usr_admin:widgets:admin' };

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): any }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({ status, code, type: expect.stringMatching(/^urn:lyceum:problem:/), title: expect.any(String) });
  expect(body.requestId).toBe(res.headers['x-request-id']);
  return body;
}

describeEachDialect('HTTP conventions', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ dialect, extraModules: [createWidgetsModule], env: { BODY_LIMIT_BYTES: '2048', CORS_ORIGINS: 'https://app.example' } });
  });
  afterAll(() => t.destroy());

  const createWidget = (headers = alice, body: unknown = { name: 'gear', size: 3 }, extra: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: '/api/v1/widgets', headers: { ...headers, ...extra }, payload: body as object });

  describe('errors are problem details', () => {
    it('an unknown route is a 404 problem with the request id', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/nowhere?token=abc' });
      const body = expectProblem(res, 404, 'NOT_FOUND');
      expect(body.detail).toBe('No route for GET /api/v1/nowhere.');
    });

    it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
      const given = await t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'lb-123.abc' } });
      expect(given.headers['x-request-id']).toBe('lb-123.abc');
      const bad = await t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'x'.repeat(300) } });
      expect(bad.headers['x-request-id']).toMatch(/^req_[0-9a-z]{26}$/);
    });

    it('lists every invalid field, and does not coerce JSON types', async () => {
      const res = await createWidget(alice, { name: 5, size: '3', colour: 'red' });
      const body = expectProblem(res, 422, 'VALIDATION_FAILED');
      const paths = body.errors.map((e: { path: string }) => e.path).sort();
      expect(paths).toEqual(['/body/colour', '/body/name', '/body/size']);
    });

    it('malformed JSON is 400', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/widgets', headers: { ...alice, 'content-type': 'application/json' }, payload: '{"name": "gear",' });
      expectProblem(res, 400, 'REQUEST_MALFORMED');
    });

    it('a body one byte over the limit is 413', async () => {
      const filler = 'x'.repeat(2048 - JSON.stringify({ name: '', size: 1 }).length + 1);
      const payload = JSON.stringify({ name: filler, size: 1 });
      expect(payload.length).toBe(2049);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/widgets', headers: { ...alice, 'content-type': 'application/json' }, payload });
      expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('an unsupported media type is 415', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/widgets', headers: { ...alice, 'content-type': 'application/xml' }, payload: '<w/>' });
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('text with a NUL character is refused the same way on every database', async () => {
      expectProblem(await createWidget(alice, { name: 'a\u0000b', size: 1 }), 400, 'REQUEST_MALFORMED');
      expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/widgets/wdg%00x' }), 400, 'REQUEST_MALFORMED');
      expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/widgets?cursor=a%00b' }), 400, 'REQUEST_MALFORMED');
    });

    it('a route that takes no input does not look at a query string it never reads', async () => {
      expect((await t.app.inject({ method: 'GET', url: '/health/live?probe=a%00b' })).statusCode).toBe(200);
    });

    it('router errors are problems too: an overlong path segment is 414, a malformed URL 400', async () => {
      expectProblem(await t.app.inject({ method: 'GET', url: `/api/v1/widgets/${'a'.repeat(500)}` }), 414, 'URI_TOO_LONG');
      expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/widgets/%E0%A4%A' }), 400, 'REQUEST_MALFORMED');
    });

    it('an unexpected failure is a 500 that hides its internals', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/widgets-boom' });
      const body = expectProblem(res, 500, 'INTERNAL');
      expect(JSON.stringify(body)).not.toContain('secret internal detail');
    });
  });

  describe('access rules', () => {
    it('a guest calling an authenticated route gets 401 with a Bearer challenge', async () => {
      const res = await createWidget({} as typeof alice);
      expectProblem(res, 401, 'AUTH_REQUIRED');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it('invalid credentials on an authenticated route are 401', async () => {
      expectProblem(await createWidget({ authorization: 'Bearer forged' }), 401, 'AUTH_INVALID_TOKEN');
    });

    it('invalid credentials on a public route are ignored', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/widgets', headers: { authorization: 'Bearer forged' } });
      expect(res.statusCode).toBe(200);
    });

    it('a caller without the permission gets 403; one with it gets through', async () => {
      expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/widgets-admin/count', headers: alice }), 403, 'FORBIDDEN');
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/widgets-admin/count', headers: admin });
      expect(res.statusCode).toBe(200);
    });

    it('a write answers 201 with Location and emits its event in the same transaction', async () => {
      const before = await t.core.events.head();
      const res = await createWidget();
      expect(res.statusCode).toBe(201);
      expect(res.headers.location).toBe(`/api/v1/widgets/${res.json().id}`);
      const events = await t.core.events.readSince(before);
      expect(events.map((e) => [e.type, e.scopes])).toEqual([['widgets.widget.created', ['user:usr_alice', `widget:${res.json().id}`]]]);
    });
  });

  describe('versions and ETags', () => {
    it('GET returns the ETag; PATCH with a stale If-Match is 412 and changes nothing', async () => {
      const created = (await createWidget()).json();
      const got = await t.app.inject({ method: 'GET', url: `/api/v1/widgets/${created.id}` });
      expect(got.headers.etag).toBe('"1"');

      const stale = await t.app.inject({ method: 'PATCH', url: `/api/v1/widgets/${created.id}`, headers: { ...alice, 'if-match': '"0"' }, payload: { size: 9 } });
      expectProblem(stale, 412, 'PRECONDITION_FAILED');
      expect(stale.headers.etag).toBe('"1"');

      const fresh = await t.app.inject({ method: 'PATCH', url: `/api/v1/widgets/${created.id}`, headers: { ...alice, 'if-match': '"1"' }, payload: { size: 9 } });
      expect(fresh.statusCode).toBe(200);
      expect(fresh.json()).toMatchObject({ size: 9, version: 2 });
      expect(fresh.headers.etag).toBe('"2"');
    });

    it('a malformed If-Match is 400', async () => {
      const created = (await createWidget()).json();
      const res = await t.app.inject({ method: 'PATCH', url: `/api/v1/widgets/${created.id}`, headers: { ...alice, 'if-match': 'yesterday' }, payload: { size: 1 } });
      expectProblem(res, 400, 'REQUEST_MALFORMED');
    });
  });

  describe('Idempotency-Key', () => {
    it('a retry with the same key and body returns the first response and writes once', async () => {
      const key = { 'idempotency-key': `k-${Math.random()}` };
      const first = await createWidget(alice, { name: 'once', size: 1 }, key);
      const retry = await createWidget(alice, { name: 'once', size: 1 }, key);
      expect(first.statusCode).toBe(201);
      expect(retry.statusCode).toBe(201);
      expect(retry.json()).toEqual(first.json());
      expect(retry.headers.location).toBe(first.headers.location);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      const all = await t.core.database.db.selectFrom('widgets_widget').select('id').where('name', '=', 'once').execute();
      expect(all).toHaveLength(1);
    });

    it('the same key with another body is 422', async () => {
      const key = { 'idempotency-key': `k-${Math.random()}` };
      await createWidget(alice, { name: 'a', size: 1 }, key);
      expectProblem(await createWidget(alice, { name: 'b', size: 1 }, key), 422, 'IDEMPOTENCY_KEY_REUSED');
    });

    it('keys are scoped per caller: another user with the same key gets their own result', async () => {
      const key = { 'idempotency-key': `k-${Math.random()}` };
      const mine = await createWidget(alice, { name: 'shared-key', size: 1 }, key);
      const theirs = await createWidget(bob, { name: 'shared-key', size: 1 }, key);
      expect(theirs.statusCode).toBe(201);
      expect(theirs.json().id).not.toBe(mine.json().id);
      expect(theirs.json().ownerId).toBe('usr_bob');
    });

    it('concurrent requests with one key create one widget', async () => {
      const key = { 'idempotency-key': `k-${Math.random()}` };
      const results = await Promise.all(Array.from({ length: 8 }, () => createWidget(alice, { name: 'race', size: 2 }, key)));
      const statuses = results.map((r) => r.statusCode);
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
      const rows = await t.core.database.db.selectFrom('widgets_widget').select('id').where('name', '=', 'race').execute();
      expect(rows).toHaveLength(1);
    });
  });

  describe('keyset pagination', () => {
    it('walks every item exactly once and rejects a forged cursor', async () => {
      for (let i = 0; i < 25; i++) await createWidget(bob, { name: `page-${i}`, size: i });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await t.app.inject({ method: 'GET', url: `/api/v1/widgets?limit=10${cursor ? `&cursor=${cursor}` : ''}` });
        expect(res.statusCode).toBe(200);
        const page: { items: Array<{ id: string }>; nextCursor: string | null } = res.json();
        seen.push(...page.items.map((w) => w.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 100);
      expect(new Set(seen).size).toBe(seen.length);
      const total = await t.core.database.db.selectFrom('widgets_widget').select('id').execute();
      expect(seen.length).toBe(total.length);

      const forged = Buffer.from(JSON.stringify(['zzz'])).toString('base64url') + '.AAAAAAAAAAAAAAAA';
      expectProblem(await t.app.inject({ method: 'GET', url: `/api/v1/widgets?cursor=${forged}` }), 400, 'PAGINATION_INVALID_CURSOR');
    });

    it('a page size over the maximum is refused', async () => {
      expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/widgets?limit=101' }), 422, 'VALIDATION_FAILED');
    });
  });

  describe('security baseline', () => {
    it('sends helmet headers and rate-limit headers on every response', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/widgets' });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['strict-transport-security']).toBeDefined();
      expect(res.headers['ratelimit-limit']).toBe('100000');
      expect(res.headers['ratelimit-remaining']).toBeDefined();
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
    });

    // Only an HTML page needs these (OWASP REST Security cheat sheet); on API answers they were bytes.
    const pageOnlyHeaders = ['cross-origin-opener-policy', 'origin-agent-cluster', 'referrer-policy', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection'];

    it("sends an API response's security headers and Vary: Origin on every response, errors included, and no page-only ones", async () => {
      const responses = await Promise.all([
        t.app.inject({ method: 'GET', url: '/health/live' }),
        t.app.inject({ method: 'GET', url: '/api/v1/nowhere' }),
        t.app.inject({ method: 'GET', url: '/api/v1/widgets?limit=101', headers: { origin: 'https://app.example' } }),
        // Refused by the router, before any route's hooks.
        t.app.inject({ method: 'GET', url: '/api/v1/widgets/%E0%A4%A' }),
        t.app.inject({ method: 'GET', url: `/api/v1/widgets/${'a'.repeat(500)}` }),
      ]);
      for (const res of responses) {
        const on = ` on ${res.statusCode}`;
        expect(res.headers['content-security-policy'], on).toBe("default-src 'none';frame-ancestors 'none'");
        expect(res.headers['x-frame-options'], on).toBe('DENY');
        expect(res.headers['x-content-type-options'], on).toBe('nosniff');
        expect(res.headers['strict-transport-security'], on).toBe('max-age=31536000; includeSubDomains');
        expect(res.headers['cross-origin-resource-policy'], on).toBe('same-site');
        for (const name of pageOnlyHeaders) expect(res.headers[name], `${name}${on}`).toBeUndefined();
        expect(res.headers.vary).toBe('Origin');
        expect(res.headers['x-request-id'], `request id${on}`).toMatch(/^req_/);
      }
    });

    it("gives an HTML page helmet's page headers, with the page's own content security policy", async () => {
      const page = await t.app.inject({ method: 'GET', url: '/docs' });
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      for (const name of pageOnlyHeaders) expect(page.headers[name], name).toBeDefined();
      expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      const script = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
      expect(script.statusCode).toBe(200);
      expect(script.headers['x-xss-protection']).toBeUndefined();
    });

    it('adds CORS headers for a listed origin, and refuses a preflight without an Origin', async () => {
      const withOrigin = await t.app.inject({ method: 'GET', url: '/health/live', headers: { origin: 'https://app.example' } });
      expect(withOrigin.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(withOrigin.headers['access-control-allow-credentials']).toBe('true');
      expect(String(withOrigin.headers['access-control-expose-headers'])).toContain('x-request-id');
      expect((await t.app.inject({ method: 'OPTIONS', url: '/api/v1/widgets' })).statusCode).toBe(400);
    });

    it('adds no CORS headers to a request without an Origin, only Vary: Origin', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/widgets' });
      expect(res.statusCode).toBe(200);
      expect(res.headers.vary).toBe('Origin');
      expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    });

    it('allows CORS only for listed origins', async () => {
      const allowed = await t.app.inject({ method: 'OPTIONS', url: '/api/v1/widgets', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(allowed.headers['access-control-allow-credentials']).toBe('true');
      // A browser's preflight for an edit or a delete must be answered with those methods allowed.
      const patch = await t.app.inject({ method: 'OPTIONS', url: '/api/v1/widgets/wdg_1', headers: { origin: 'https://app.example', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'if-match, content-type' } });
      expect(patch.statusCode).toBe(204);
      expect(String(patch.headers['access-control-allow-methods']).split(/,\s*/)).toEqual(expect.arrayContaining(['PATCH', 'DELETE', 'PUT']));
      expect(String(patch.headers['access-control-allow-headers'])).toContain('if-match');
      const denied = await t.app.inject({ method: 'OPTIONS', url: '/api/v1/widgets', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});

describe('rate limiting', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ extraModules: [createWidgetsModule], env: { RATE_LIMIT_MAX: '3' } });
  });
  afterAll(() => t.destroy());

  it('answers 429 with Retry-After once a client exceeds the limit, per IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.app.inject({ method: 'GET', url: '/api/v1/widgets', remoteAddress: '10.1.1.1' })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await t.app.inject({ method: 'GET', url: '/api/v1/widgets', remoteAddress: '10.1.1.1' });
    expectProblem(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    const other = await t.app.inject({ method: 'GET', url: '/api/v1/widgets', remoteAddress: '10.2.2.2' });
    expect(other.statusCode).toBe(200);
  });

  it('counts one IPv6 /64 as one client: another address of the same subscriber gets no fresh quota', async () => {
    const statuses: number[] = [];
    for (const remoteAddress of ['2001:db8:7:1::1', '2001:db8:7:1::2', '2001:db8:7:1::beef', '2001:db8:7:1:ffff:ffff:ffff:fffe']) {
      statuses.push((await t.app.inject({ method: 'GET', url: '/api/v1/widgets', remoteAddress })).statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const otherNetwork = await t.app.inject({ method: 'GET', url: '/api/v1/widgets', remoteAddress: '2001:db8:7:2::1' });
    expect(otherNetwork.statusCode).toBe(200);
  });
});

describe('the module contract', () => {
  it('refuses to start when a route declares no access rule', async () => {
    const config = loadConfig({ env: { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent' }, cwd: '/tmp' });
    const careless = () =>
      defineModule({
        name: 'careless',
        routes: async (app) => {
          app.get('/careless', async () => ({}));
        },
      });
    await expect(buildApp({ config, extraModules: [careless], logger: false })).rejects.toThrow(/GET \/api\/v1\/careless declares no access rule/);
  });

  it('refuses job names outside the module namespace', () => {
    expect(() => defineModule({ name: 'chat', jobs: { 'mail.send': { handle: async () => {} } } })).toThrow(/must start with "chat\."/);
  });
});

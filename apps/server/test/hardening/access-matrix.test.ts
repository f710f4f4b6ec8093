import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../support/databases.js';
import { bearer, identityApp, login, signUp, signUpAdmin, type IdentityTestApp } from '../support/identity.js';
import { ACTORS, POLICY, type Actor, type Fixtures, type PolicyContext } from './access-policy.js';
import { MODULE_POLICIES } from './policies/index.js';
import { operationsOf, resolver, validValue, type Operation } from './openapi-fuzz.js';

/** Codes that mean "the access rules refused you", as opposed to a business answer. */
const REFUSALS = new Set(['AUTH_REQUIRED', 'FORBIDDEN', 'AUTH_SESSION_REQUIRED', 'AUTH_INVALID_TOKEN', 'AUTH_SESSION_ENDED']);
const isRefusal = (status: number, code: string | undefined) => [401, 403, 404].includes(status) && code !== undefined && (REFUSALS.has(code) || code.endsWith('_NOT_FOUND'));

/** Rows that change with every request whatever it does (audit trail, throttles, challenges, last use). */
const VOLATILE_TABLES = /^(core_|identity_audit_event$|identity_login_throttle$|identity_webauthn_challenge$|identity_mfa_challenge$|kysely_)/;
const VOLATILE_COLUMNS = new Set(['last_used_at']);
const MODULE_VOLATILE_TABLES = new Set(MODULE_POLICIES.flatMap((p) => p.volatileTables ?? []));

/** While working on one module: `LYCEUM_MATRIX_PATHS=/api/v1/courses` runs only the rows of paths with these prefixes. */
const ONLY = process.env.LYCEUM_MATRIX_PATHS?.split(',').filter(Boolean);

/** Reads, for each route, the order that keeps fixtures alive: reads, then writes, then deletions (deepest path first). */
const order = (op: Operation) => `${{ GET: 0, POST: 1, PATCH: 1, PUT: 1, DELETE: 2 }[op.method] ?? 1}:${String(1000 - op.path.length).padStart(4, '0')}`;

describeEachDialect('authorization matrix: every route × every actor', (dialect) => {
  let t: IdentityTestApp;
  let fixtures: Fixtures;
  const credentials = new Map<Actor, Record<string, string>>();

  async function signInAgain(actor: Exclude<Actor, 'guest' | 'scopedKey'>) {
    const user = fixtures.users[actor];
    const res = await login(t, user.email, user.password);
    expect(res.statusCode, res.body).toBe(200);
    user.accessToken = res.json().accessToken;
    credentials.set(actor, bearer(user.accessToken));
    // studentA's second session is a fixture; logging out everywhere ends it, so it is opened again.
    if (actor === 'studentA') fixtures.sessionOfA = (await login(t, user.email, user.password)).json().sessionId;
  }

  beforeAll(async () => {
    t = await identityApp({ dialect });
    const admin = await signUpAdmin(t);
    const [studentA, studentB, teacherOwner, teacherOther, victim] = await Promise.all([signUp(t), signUp(t), signUp(t), signUp(t), signUp(t)]);
    fixtures = { users: { studentA, studentB, teacherOwner, teacherOther, admin }, victim, ids: {} } as unknown as Fixtures;
    for (const teacher of ['teacherOwner', 'teacherOther'] as const) {
      await t.identity.admin.updateUser(admin.userId, fixtures.users[teacher].userId, undefined, { roles: ['teacher'] }, { ip: '127.0.0.1' });
    }
    for (const actor of ['studentA', 'studentB', 'teacherOwner', 'teacherOther', 'admin'] as const) await signInAgain(actor);
    const post = async (url: string, token: string, payload: object) => {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(token), payload });
      expect(res.statusCode, res.body).toBeLessThan(300);
      return res.json();
    };
    credentials.set('guest', {});
    credentials.set('scopedKey', bearer((await post('/api-keys', studentA.accessToken, { name: 'scoped', permissions: ['profile:edit'] })).key));
    fixtures.keyOfA = (await post('/api-keys', studentA.accessToken, { name: 'fixture', permissions: [] })).apiKey.id;
    fixtures.serviceAccount = (await post('/admin/service-accounts', admin.accessToken, { displayName: 'Fixture bot', roles: ['student'] })).id;
    fixtures.serviceAccountKey = (await post(`/admin/service-accounts/${fixtures.serviceAccount}/api-keys`, admin.accessToken, { name: 'fixture', permissions: [] })).apiKey.id;
    fixtures.job = (await t.core.jobs.list({ limit: 1 }))[0]!.id;
    const context: PolicyContext = {
      t,
      users: fixtures.users,
      ids: fixtures.ids,
      call: async (actor, method, url, payload) => {
        const res = await t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(fixtures.users[actor].accessToken), ...(payload === undefined ? {} : { payload: payload as object }) });
        expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
        return res.body ? res.json() : undefined;
      },
    };
    for (const policy of MODULE_POLICIES) Object.assign(fixtures.ids, await policy.setup?.(context));
  }, 120_000);
  afterAll(() => t.destroy());

  /** A digest of every domain table, to prove a refused write changed nothing. */
  async function digest(): Promise<string> {
    const db = t.core.database.db;
    const tables =
      dialect === 'sqlite'
        ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows.map((r) => r.name)
        : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db)).rows.map((r) => r.name);
    const hash = createHash('sha256');
    for (const table of tables.filter((name) => !VOLATILE_TABLES.test(name) && !MODULE_VOLATILE_TABLES.has(name) && !name.startsWith('sqlite_')).sort()) {
      const rows = (await db.selectFrom(table).selectAll().execute()).map((row) => JSON.stringify(Object.entries(row).filter(([k]) => !VOLATILE_COLUMNS.has(k)))).sort();
      hash.update(`${table}\n${rows.join('\n')}\n`);
    }
    return hash.digest('hex');
  }

  it('every documented route has a row in the policy, and every row a route', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const documented = operationsOf(document).map((op) => `${op.method} ${op.path}`).sort();
    expect(documented.filter((route) => !POLICY[route])).toEqual([]);
    expect(Object.keys(POLICY).filter((route) => !documented.includes(route))).toEqual([]);
  });

  it('exactly the allowed actors get through, and refused writes change nothing', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const resolve = resolver(document);
    const operations = operationsOf(document)
      .filter((op) => POLICY[`${op.method} ${op.path}`] && (!ONLY || ONLY.some((prefix) => op.path.startsWith(prefix)))).sort((a, b) => order(a).localeCompare(order(b)));
    const mismatches: string[] = [];
    // The digest taken after the last request, while nothing has run since: refused actors come one
    // after another, so one digest serves as the "after" of one and the "before" of the next.
    let latest: string | undefined;
    for (const op of operations) {
      const route = `${op.method} ${op.path}`;
      const rule = POLICY[route]!;
      const params = rule.params?.(fixtures) ?? {};
      const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? 'x'));
      const query = Object.fromEntries(op.params.filter((p) => p.in === 'query' && p.required).map((p) => [p.name, String(fc.sample(validValue(p.schema, resolve), { numRuns: 1, seed: 7 })[0])]));
      const url = `${path}${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`;
      // Refused actors first, so that an allowed deletion cannot hide a refusal behind a 404.
      const actors = [...ACTORS].sort((a, b) => Number(allowed(rule.allow, a)) - Number(allowed(rule.allow, b)));
      for (const actor of actors) {
        const may = allowed(rule.allow, actor);
        if (may && rule.stream) continue;
        const body = op.body ? (rule.body?.(fixtures, actor) ?? fc.sample(validValue(op.body, resolve), { numRuns: 1, seed: 7 })[0]) : undefined;
        const write = op.method !== 'GET';
        const before = write && !may ? (latest ?? (await digest())) : undefined;
        latest = undefined;
        const res = await t.app.inject({
          method: op.method as 'GET',
          url,
          headers: { ...credentials.get(actor), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          payload: body === undefined ? undefined : JSON.stringify(body),
        });
        const code = res.headers['content-type']?.toString().startsWith('application/problem+json') ? (res.json().code as string) : undefined;
        const where = `${route} as ${actor} → ${res.statusCode} ${code ?? ''}`;
        if (res.statusCode >= 500) mismatches.push(`${where}: server error`);
        else if (may && isRefusal(res.statusCode, code)) mismatches.push(`${where}: refused, but the policy allows it`);
        else if (!may && rule.allow !== 'everyone') {
          if (!isRefusal(res.statusCode, code)) mismatches.push(`${where}: got through, but the policy refuses it`);
          else if (actor === 'guest' && res.statusCode !== 401) mismatches.push(`${where}: a guest must get 401`);
          if (before !== undefined) {
            latest = await digest();
            if (latest !== before) mismatches.push(`${where}: the refused write changed stored data`);
          }
        }
        if (may && rule.renewsCredentials && actor !== 'guest' && actor !== 'scopedKey') await signInAgain(actor);
      }
    }
    expect(mismatches).toEqual([]);
  }, 300_000);
});

const allowed = (allow: readonly Actor[] | 'everyone', actor: Actor) => allow === 'everyone' || allow.includes(actor);

import fc from 'fast-check';
import { DEMO_ADMIN_EMAIL, DEMO_DOMAIN, DEMO_PASSWORD } from '../../src/flows/demo-seed.js';
import { operationsOf, validValue, type JsonSchema, type Operation } from '../hardening/openapi-fuzz.js';

/**
 * What the injection suite scans: every list and search route of `/openapi.json`, each turned into
 * a request that the server answers with 2xx and, where the data allow, with rows. sqlmap compares
 * the pages of its payloads with that baseline, so a baseline that is an error page (a value that
 * fails validation, an id that does not exist) would only test the validator, never the SQL.
 */

type Json = any;

/** In the texts of what the suite creates, so that a search that finds nothing else finds these. */
const SEARCH_WORD = 'injection';

/** A signed-in client of the running server. */
export interface Api {
  authorization: string;
  get(path: string): Promise<{ status: number; body: Json }>;
  send(method: string, path: string, body?: unknown): Promise<Json>;
}

export async function signInAsDemoAdmin(baseUrl: string): Promise<Api> {
  const login = await fetch(`${baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: DEMO_ADMIN_EMAIL, password: DEMO_PASSWORD }) });
  if (login.status !== 200) throw new Error(`demo admin login: ${login.status} ${await login.text()}`);
  const authorization = `Bearer ${((await login.json()) as { accessToken: string }).accessToken}`;
  const get = async (path: string) => {
    const res = await fetch(`${baseUrl}${path}`, { headers: { authorization } });
    return { status: res.status, body: (await res.json().catch(() => null)) as Json };
  };
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}/api/v1${path}`, { method, headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return { authorization, get, send };
}

/**
 * Real ids for path parameters, keyed by the collection segment in front of the parameter
 * (`/courses/{id}` → `courses`). The demo school has most of them; what the admin takes no part in
 * (a conversation, a service account) is created here through the API, as the admin, so that the
 * member-only lists have rows. A new route under a known collection needs nothing; a new collection
 * needs one line.
 */
export async function prepareIds(api: Api): Promise<Record<string, string>> {
  const items = async (path: string) => ((await api.send('GET', path)) as { items: Json[] }).items;
  const users = await items(`/admin/users?q=${encodeURIComponent(`@${DEMO_DOMAIN}`)}&limit=100`);
  const students = users.filter((u) => u.roles.includes('student'));
  // The course whose quiz has attempts, so that the attempts list has rows too.
  const quizzes = await Promise.all((await items('/courses?limit=100')).map(async (c) => ({ course: c, quiz: (await items(`/courses/${c.id}/quizzes`))[0] })));
  const withAttempts = await Promise.all(quizzes.map(async (q) => (q.quiz ? (await items(`/quizzes/${q.quiz.id}/attempts?limit=1`)).length : 0)));
  const { course, quiz } = quizzes[withAttempts.findIndex((n) => n > 0)] ?? quizzes[0]!;
  const [post] = (await items(`/courses/${course.id}/feed?limit=100`)).sort((a, b) => b.commentCount - a.commentCount);
  const [comment] = await items(`/posts/${post.id}/comments`);

  await api.send('PUT', `/users/${post.authorId}/follow`);
  await api.send('POST', `/posts/${post.id}/reactions`, { kind: 'like' });
  await api.send('POST', `/comments/${comment.id}/reactions`, { kind: 'like' });
  await api.send('POST', `/posts/${post.id}/reports`, { reason: 'spam', note: `${SEARCH_WORD} suite` });
  await api.send('POST', '/api-keys', { name: `${SEARCH_WORD} suite`, permissions: ['community:post'] });
  await api.send('PUT', `/users/${students.at(-1).id}/block`);
  await api.send('POST', '/conversations/blocks', { userId: students.at(-1).id });
  await api.send('POST', '/learning/goals', { kind: 'minutes_per_week', target: 60 });
  await api.send('POST', '/learning/sessions', { courseId: course.id });
  const conversation = await api.send('POST', '/conversations', { kind: 'direct', userId: students[0].id });
  const message = await api.send('POST', `/conversations/${conversation.id}/messages`, { body: `Hello from the ${SEARCH_WORD} suite` });
  await api.send('PATCH', `/conversations/${conversation.id}/messages/${message.id}`, { body: `Hello again from the ${SEARCH_WORD} suite`, version: message.version });
  const account = await api.send('POST', '/admin/service-accounts', { displayName: `${SEARCH_WORD} suite`, roles: ['student'] });
  await api.send('POST', `/admin/service-accounts/${account.id}/api-keys`, { name: `${SEARCH_WORD} suite`, permissions: ['community:post'] });

  return {
    users: post.authorId,
    courses: course.id,
    quizzes: quiz.id,
    posts: post.id,
    comments: comment.id,
    conversations: conversation.id,
    messages: message.id,
    'service-accounts': account.id,
  };
}

export interface Target {
  route: string;
  url: URL;
  /** The baseline's status and number of rows. */
  status: number;
  rows: number;
}

/** Every list and search route: GETs that page (`limit`) or search (`q`). */
export function listOperations(doc: Json): Operation[] {
  return operationsOf(doc).filter((op) => op.method === 'GET' && op.params.some((p) => p.in === 'query' && (p.name === 'limit' || p.name === 'q')));
}

/** Values found in a row for a parameter of the same name (searched in nested objects too), or under another name. */
const ROW_ALIASES: Record<string, (row: Json) => unknown> = {
  q: (row) => /[\p{L}]{4,}/u.exec(String(row.title ?? row.displayName ?? row.name ?? row.body ?? ''))?.[0],
  teacherId: (row) => row.ownerId,
  userId: (row) => row.userId ?? row.actorId,
  tag: (row) => row.tags?.[0],
  // Replies to the first comment.
  parentId: (row) => row.id,
};
/** Values that a route needs before it answers at all (the control route's required `name`). */
const REQUIRED: Record<string, Record<string, string>> = { '/api/v1/injectable/widgets': { name: 'algebra' } };

function findIn(value: Json, key: string, depth = 0): unknown {
  if (!value || typeof value !== 'object' || depth > 3) return undefined;
  if (key in value) return Array.isArray(value[key]) ? value[key][0] : (value[key] ?? undefined);
  for (const child of Object.values(value)) {
    const found = findIn(child, key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `cursor`, or a parameter under another name that takes the `nextCursor` of a previous page (xAPI's `since`). */
const isCursor = (p: Operation['params'][number] & { description?: string }) => p.name === 'cursor' || /nextCursor/.test(p.description ?? '');

const PLAIN = /^[\p{L}\p{N}_-]+$/u;

function enumOptions(schema: JsonSchema): unknown[] {
  return [...(schema.enum ?? []), ...(schema.const !== undefined ? [schema.const] : []), ...(schema.anyOf ?? schema.oneOf ?? []).flatMap(enumOptions)];
}

/**
 * A 2xx request for one list route. Path parameters take real ids; each query parameter, in turn,
 * the first of these candidates that keeps rows in the answer: a value from a real row, the
 * schema's default, minimum or enum options, then values the fuzzer's generator draws from the
 * schema (so patterns and formats hold). `cursor` is the next page's, when there is one.
 */
export async function targetFor(api: Api, op: Operation, ids: Record<string, string>, resolve: (s: JsonSchema) => JsonSchema): Promise<Target> {
  const path = op.path.replace(/([^/]+)\/\{[^}]+\}/g, (whole, collection: string) => (ids[collection] ? `${collection}/${ids[collection]}` : whole));
  const url = new URL(`http://server${path}`);
  for (const [name, value] of Object.entries(REQUIRED[op.path] ?? {})) url.searchParams.set(name, value);
  const fetchWith = async (params: URLSearchParams) => {
    const res = await api.get(`${url.pathname}?${params}`);
    return { ...res, rows: Array.isArray(res.body?.items) ? res.body.items.length : 0 };
  };
  const probe = new URLSearchParams(url.searchParams);
  probe.set('limit', '100');
  const row = (await fetchWith(probe)).body?.items?.[0] ?? {};

  const cursors = op.params.filter((p) => p.in === 'query' && isCursor(p)).map((p) => p.name);
  for (const param of op.params.filter((p) => p.in === 'query' && !cursors.includes(p.name) && !url.searchParams.has(p.name))) {
    const schema = resolve(param.schema);
    // The generator also draws hostile strings on purpose; a baseline wants plain ones.
    const drawn = fc.sample(validValue(param.schema, resolve), { seed: 2026, numRuns: 50 }).filter((v) => typeof v !== 'string' || (PLAIN.test(v) && (!schema.pattern || new RegExp(schema.pattern, 'u').test(v)))).slice(0, 3);
    const known = /^(.+)Id$/.exec(param.name)?.[1];
    const candidates = [ROW_ALIASES[param.name]?.(row), findIn(row, param.name), known && ids[`${known}s`], param.name === 'q' ? SEARCH_WORD : undefined, (schema as { default?: unknown }).default, schema.minimum, ...enumOptions(schema), ...drawn]
      .filter((v) => v !== undefined && v !== null && typeof v !== 'object')
      .map(String);
    let chosen: string | undefined;
    for (const candidate of new Set(candidates)) {
      const params = new URLSearchParams(url.searchParams);
      params.set(param.name, candidate);
      const res = await fetchWith(params);
      if (res.status < 300 && res.rows > 0) {
        chosen = candidate;
        break;
      }
      if (res.status < 300) chosen ??= candidate;
    }
    url.searchParams.set(param.name, chosen ?? candidates[0] ?? 'x');
  }

  for (const cursor of cursors) {
    const firstPage = new URLSearchParams(url.searchParams);
    firstPage.set('limit', '1');
    const next = (await fetchWith(firstPage)).body?.nextCursor;
    if (typeof next === 'string') {
      url.searchParams.set('limit', '1');
      url.searchParams.set(cursor, next);
    }
  }
  const baseline = await fetchWith(url.searchParams);
  return { route: op.path, url, status: baseline.status, rows: baseline.rows };
}

/**
 * Identity under load: password sign-ins (bounded by argon2), refreshes, what authentication adds to
 * a trivial route, and whether the event loop stays free while argon2 works.
 */
import autocannon from 'autocannon';
import { loadConfig } from '../apps/server/src/core/config/config.js';
import { createPasswordHasher } from '../apps/server/src/modules/identity/passwords.js';
import { measure, percent, seconds, start, table, verdict, type Row, type Section } from './support.js';

interface AuthInfo {
  email: string;
  password: string;
  sessions: Array<{ accessToken: string; refreshToken: string }>;
}

async function argon2Millis(): Promise<number> {
  const { auth } = loadConfig({ env: {} });
  const hasher = createPasswordHasher(auth.argon2);
  await hasher.hash('warm-up password');
  const started = performance.now();
  for (let i = 0; i < 10; i++) await hasher.hash(`bench password ${i}`);
  return (performance.now() - started) / 10;
}

export async function authSection(baseline: Row): Promise<Section> {
  const hashMs = await argon2Millis();
  const server = await start('auth-server.ts');
  const { email, password, sessions } = server.info as unknown as AuthInfo;
  const json = { method: 'POST' as const, headers: { 'content-type': 'application/json' } };
  const authorization = { authorization: `Bearer ${sessions[0]!.accessToken}` };
  try {
    const anonymous = await measure('GET /api/v1/auth/oidc/providers, anonymous', server, { path: '/api/v1/auth/oidc/providers' });
    const signedIn = await measure('same route with a Bearer access token (signature + live-session check)', server, { path: '/api/v1/auth/oidc/providers', headers: authorization });
    const me = await measure('GET /api/v1/me (authenticated, one user read)', server, { path: '/api/v1/me', headers: authorization });

    // Every refresh spends its token; the response's successor goes back into the pool.
    const pool = sessions.map((s) => s.refreshToken);
    const refreshes = await measure('POST /api/v1/auth/refresh (rotating tokens)', server, {
      path: '/api/v1/auth/refresh',
      warmup: false,
      requests: [
        {
          ...json,
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ refreshToken: pool.shift() }) }),
          onResponse: (status, body) => {
            if (status === 200) pool.push(JSON.parse(body).refreshToken);
          },
        },
      ],
    });

    const logins = await measure('POST /api/v1/auth/login (argon2id verify)', server, { path: '/api/v1/auth/login', ...json, body: JSON.stringify({ email, password }), warmup: false });

    // /health/live alone, then while a login flood keeps argon2 busy.
    const probe = { path: '/health/live', connections: 5, warmup: false };
    const calm = await measure('GET /health/live, 5 connections, idle server', server, probe);
    const flood = autocannon({ url: `http://127.0.0.1:${server.port}/api/v1/auth/login`, connections: 50, duration: seconds + 2, ...json, body: JSON.stringify({ email, password }) });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busy = await measure('GET /health/live, 5 connections, during a 50-connection login flood', server, probe);
    await flood;

    const kept = signedIn.rps / anonymous.rps;
    return {
      title: 'Authentication',
      body: `argon2id at the configured parameters (OWASP: 19 MiB, 2 iterations): **${hashMs.toFixed(1)} ms per hash** in this process
(${(1000 / hashMs).toFixed(0)} hashes/s on one core). Hashing runs on libuv's thread pool, never on the event loop.

${table([anonymous, signedIn, me, refreshes, logins, calm, busy], baseline)}

- An authenticated trivial route keeps ≥ 70% of the unauthenticated route's throughput: **${percent(signedIn.rps, anonymous.rps)}** — ${verdict(kept >= 0.7)}
- \`/health/live\` during a login flood: p99 **${busy.p99} ms** (idle: ${calm.p99} ms), ${Math.round(busy.rps)} req/s — the event loop stays free while argon2 works.
- Sign-ins per second are bounded by argon2 and the thread pool (${process.env.UV_THREADPOOL_SIZE ?? 4} threads by default, on ${(await import('node:os')).cpus().length} cores).
- Refresh rotates the token in a transaction (hash lookup, new token, old one marked used): ${Math.round(refreshes.rps)} per second on SQLite.`,
    };
  } finally {
    server.child.kill();
  }
}

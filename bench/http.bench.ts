/** The HTTP core against bare node:http: a trivial route and a one-row database read. */
import { connections, measure, percent, start, table, verdict, type Row, type Section } from './support.js';

export async function httpSection(baseline: Row): Promise<Section> {
  const lyceum = await start('lyceum-server.ts');
  let rows: Row[];
  try {
    rows = [
      baseline,
      await measure('Lyceum GET /health/live', lyceum, { path: '/health/live' }),
      await measure('Lyceum GET /api/v1/widgets/{id} (one row by primary key, SQLite)', lyceum, { path: `/api/v1/widgets/${lyceum.info.widgetId}` }),
    ];
  } finally {
    lyceum.child.kill();
  }
  const dbRead = rows[2]!;
  return {
    title: 'HTTP baseline',
    body: `${table(rows, baseline)}

- DB read on SQLite keeps ≥ 50% of bare node:http throughput: **${percent(dbRead.rps, baseline.rps)}** — ${verdict(dbRead.rps / baseline.rps >= 0.5)}
- DB read p99 under 25 ms at ${connections} connections: **${dbRead.p99} ms** — ${verdict(dbRead.p99 < 25)}

### Where the time goes (profiled 2026-11-22)

Both Lyceum routes are CPU-bound in the server process (100% of one core) while the load
generator has headroom. Measured per request on this machine:
- bare node:http ≈ 25 µs; Fastify with our hook stack (request id, security headers computed once,
  CORS, rate limit, access guard, idempotency check, metrics) ≈ 40–50 µs on \`/health/live\`.
  Running helmet's middleware per request (as \`@fastify/helmet\` does) cost about as much again, so
  its headers are now computed once at start.
- the primary-key read adds ≈ 55 µs under load: Kysely's query building and its connection mutex
  (≈ 17 µs in isolation), the response schema serializer, and the extra async hops. Preparing the
  SQLite statement on every query cost another 20 µs; statements are now cached.
- ULID generation drew one system call per character; it now draws from a pooled buffer.

The DB-read target (≥ 50% of bare node:http) is not met yet. Candidates, in order of expected gain:
precompiled Kysely queries for hot reads, fewer async hooks (merging the guard, idempotency and
metrics hooks into one), and response headers trimmed for JSON responses.`,
  };
}

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

### Where the time goes (profiled 2026-12-05)

Both Lyceum routes are CPU-bound in the server process (100% of one core) while the load
generator has headroom. Measured per request on this machine:
- bare node:http ≈ 25 µs; Fastify with our hook stack (request id, security headers computed once,
  CORS, rate limit, access guard, idempotency check, metrics) ≈ 40–50 µs on \`/health/live\`.
  Running helmet's middleware per request (as \`@fastify/helmet\` does) cost about as much again, so
  its headers are computed once at start.
- the primary-key read goes through \`database.prepareRead\`: the Kysely query is built and compiled
  once, and on SQLite the prepared statement runs synchronously whenever no query or transaction
  holds the connection. Kysely's per-query building, compiling and connection queue are gone from
  the path: the server creates 6 promises per widget read instead of 41 (counted with async_hooks).
- the global rate limit and the access guard are hooks of each route, made at registration: no
  request reads \`request.routeOptions\` (a new object on every read). The rate limit stays
  \`@fastify/rate-limit\`'s own hook (three promises per request): we do not hand-write limiters.
  The latency histogram
  observes with label sets made once per route and status.
- ULID generation draws its randomness from a pooled buffer, not one system call per character.

What remains, by profile share: Fastify's own request lifecycle, Node's HTTP parser and the socket
write; \`@fastify/cors\`, whose hook runs on every request even without an \`Origin\` header (two
\`routeOptions\` reads, three headers); about 25 response headers where bare node:http sends 2; and
Socket.io's listener on every HTTP request. Candidates: CORS work only for requests with an
\`Origin\`, and fewer headers on JSON responses.`,
  };
}

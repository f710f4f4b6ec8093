/** The HTTP core against bare node:http: a trivial route and a one-row database read. */
import { connections, measure, percent, start, stop, table, verdict, type Row, type Section } from './support.js';

export async function httpSection(baseline: Row): Promise<Section> {
  const floor = await start('bare-fastify-server.ts');
  let bareRead: Row;
  try {
    bareRead = await measure('bare Fastify, one prepared better-sqlite3 read by primary key per request (no plugins, no hooks)', floor, { path: `/widgets/${floor.info.widgetId}` });
  } finally {
    await stop(floor);
  }
  const lyceum = await start('lyceum-server.ts');
  let rows: Row[];
  try {
    rows = [
      baseline,
      bareRead,
      await measure('Lyceum GET /health/live', lyceum, { path: '/health/live' }),
      await measure('Lyceum GET /api/v1/widgets/{id} (one row by primary key, SQLite)', lyceum, { path: `/api/v1/widgets/${lyceum.info.widgetId}` }),
    ];
  } finally {
    await stop(lyceum);
  }
  const dbRead = rows[3]!;
  return {
    title: 'HTTP baseline',
    body: `${table(rows, baseline)}

- DB read on SQLite keeps ≥ 50% of bare node:http throughput: **${percent(dbRead.rps, baseline.rps)}** — ${verdict(dbRead.rps / baseline.rps >= 0.5)}
- DB read p99 under 25 ms at ${connections} connections: **${dbRead.p99} ms** — ${verdict(dbRead.p99 < 25)}
- For scale, bare Fastify doing the same read the plain way (one prepared statement per request,
  each its own read transaction; no plugins, no hooks): **${percent(bareRead.rps, baseline.rps)}** of bare node:http; Lyceum's
  widget read, with its whole stack (access rule, rate limit, CORS, security headers, request id,
  metrics, validation, response schema) and its reads sharing a read transaction per event-loop
  turn, is **${percent(dbRead.rps, bareRead.rps)}** of it.

### Where the time goes (profiled 2026-12-05)

Both Lyceum routes are CPU-bound in the server process (100% of one core) while the load
generator has headroom. Measured per request on this machine:
- bare node:http ≈ 25 µs; Fastify with our hook stack (request id, security headers computed once,
  CORS, rate limit, access guard, idempotency check, metrics) ≈ 40–50 µs on \`/health/live\`.
  Running helmet's middleware per request (as \`@fastify/helmet\` does) cost about as much again, so
  its headers are computed once at start.
- the primary-key read goes through \`database.prepareRead\`: the Kysely query is built and compiled
  once, and on SQLite the prepared statement runs synchronously whenever no query or transaction
  holds the connection and no write awaits its commit. Kysely's per-query building, compiling and
  connection queue are gone from the path: the server creates 6 promises per widget read instead of
  41 (counted with async_hooks).
- a read on its own is a read transaction of its own: SQLite takes and drops a WAL read lock with
  two \`fcntl\` system calls, which cost more than the read itself (\`perf\`: 38% of a lone read's
  time, and system calls are dear on this VM). The prepared reads of one event-loop turn now share
  one read transaction (a read-only batch of the group-commit driver, committed on the next turn;
  a write that comes meanwhile commits it first). At 50 connections about 33 reads share one:
  \`fcntl\` calls per widget request went from 2.0 to 0.06, all system calls from 4.1 to 2.1, as
  many as \`/health/live\` makes (\`perf stat\` tracepoints). In alternating runs of both servers side
  by side (3 s rounds, CPU time from \`/proc/<pid>/stat\`), the widget read went from a median of
  96–102 µs to 58–62 µs of CPU per request (two runs), about what \`/health/live\` costs (59–64 µs,
  unchanged).
- the global rate limit and the access guard are hooks of each route, made at registration: no
  request reads \`request.routeOptions\` (a new object on every read). The rate limit stays
  \`@fastify/rate-limit\`'s own hook (eight promises per request, counted with async_hooks): we do not hand-write limiters.
  The latency histogram
  observes with label sets made once per route and status.
- ULID generation draws its randomness from a pooled buffer, not one system call per character.
- Checked, and not a cost worth removing: Socket.io's \`request\` listener (engine.io checks the path
  prefix, then calls Fastify's listener: no visible share of the profile); ETags (the version
  number, no hashing); response serialization (fast-json-stringify, compiled from each route's
  response schema, serializes the widget); together with the route's params validation, about
  4 µs of CPU per request in an A/B of the same route with and without them.
- Logging: this server runs with logs off. At the default \`LOG_LEVEL=info\` every request wrote
  two lines (Fastify's \`incoming request\` and \`request completed\`), each through pino's
  redaction, whose wildcard paths cost about 10 µs of CPU per line. Now one line, when the request
  completes, and its fixed fields (method, path, IP, status, time; no headers, no query string)
  skip the redaction: with the production logger (stdout to /dev/null), alternating runs of the
  widget read went from a median of 105 to 74 and of 79 to 68 µs of CPU per request (two runs of
  10 rounds of 2 s; lower in 19 of the 20 pairs). Most of what the line still costs is its own
  write to stdout (a system call per line).
- The common stack, one piece at a time (same server, switched off in turn, 10 alternating rounds
  of 2 s): rate limit, CORS, helmet headers, latency histogram, request id and the \`onSend\` hook
  each cost less than the noise of a shared machine (±5 µs); all six off, the widget read went from
  50 to 36 µs. The global limit on \`rate-limiter-flexible\` (two promises per request instead of
  the plugin's eight, counted with async_hooks) made no measurable difference (45.5 vs 47.8 µs) and
  was not kept then; measured again (below) it does help, but is not kept either.
- The stack priced again (2026-12-06; one server per variant, 10 alternating rounds of 2 s, median
  CPU per request from \`/proc/<pid>/stat\`): the widget read with everything 45.7 µs; without the
  route's rate limit 38.4; without CORS 42.3; without the per-route latency hook, the NUL check and the
  \`onSend\` hook 42.0; with all six off 31.7, below bare Fastify's read (33.6; bare node:http 17.0 in
  the same harness). The rate limit is the largest piece. The global limit as one callback-style
  hook on \`rate-limiter-flexible\`'s \`RateLimiterMemory\` (one promise, no read of the route's
  options) went from 39.3 to 36.0 µs (14 alternating pairs, lower in 13), but is not kept: that
  store holds every key until its window ends, with no bound, where the plugin's is an LRU of 5,000
  keys, so a client cycling through source addresses (an IPv6 /64) would grow the heap without
  limit. Taking it needs a bounded store or keys per /64 first. Not kept, no measurable
  difference (14 pairs, 40.7 vs 44.1 µs, noise): CORS's exposed headers as one string (the plugin
  joins a list per request) and the NUL check without \`Object.entries\`.
- \`/health/live\` costs about the same CPU per request as the widget read (43.2 vs 45.7 µs in the
  run above) although it has no rate limit and no database read: the difference is in the kernel,
  not in our code. Its response's \`writev\` takes longer (\`perf trace -s\` on the server: 28–30 µs
  per call against 22–24 for the widget read, minimum 19 against 15; in a CPU profile 46% of the
  busy time against 32%). Collecting the start-up garbage before serving (as the community server
  does) changed nothing measurable. Its lower requests/s in the table is within the run-to-run
  spread of a shared machine.

What remains, by profile share: Fastify's own request lifecycle, Node's HTTP parser and the socket
write (\`writev\`, the largest single share); 21 response headers on \`/health/live\` where bare
node:http sends 5 (12 of them helmet's, which every response keeps); \`@fastify/cors\`, whose hook
runs on every request even without an \`Origin\` header (about 5 µs of CPU per request in an A/B;
the plugin has no option to skip such requests, and wrapping its hook would rely on its
internals); the rate limit on the widget route (about 14 µs of CPU per request in an A/B of one
route with and without it: its promises and its read of \`request.routeOptions\` are the plugin's
own). With a shared two-CPU machine the figures above move by ±25% from run to run:
compare CPU time per request (\`/proc/<pid>/stat\`) across alternating runs rather than one run's
requests per second.`,
  };
}

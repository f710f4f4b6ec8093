/**
 * Community and directory under load (issue #6): faceted directory search with varied filters, a
 * full export of the directory, and home-feed pages of readers who follow ~100 authors.
 */
import { COUNTRIES, DEPARTMENTS, INDUSTRIES, PROGRAMS } from './community-data.js';
import { connections, measure, rssMiB, seconds as loadSeconds, start, stop, table, scaledVerdict, type Row, type Section, type Started } from './support.js';

interface CommunityInfo {
  seedSeconds: number;
  directorySeconds: number;
  counts: { profiles: number; authors: number; posts: number; followed: number };
  readerTokens: string[];
}

const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;

/** Two facet filters per request, the pair and the values drawn at random. */
function facetQuery(): string {
  const pairs = [
    () => ({ country: pick(COUNTRIES), program: pick(PROGRAMS) }),
    () => ({ department: pick(DEPARTMENTS), industry: pick(INDUSTRIES) }),
    () => ({ country: pick(COUNTRIES), industry: pick(INDUSTRIES) }),
  ];
  return new URLSearchParams(pick(pairs)()).toString();
}

interface ExportRun {
  format: string;
  seconds: number;
  rows: number;
  mib: number;
  rssBefore: number;
  rssPeak: number;
}

/** Downloads the whole export once, sampling the server's RSS every 20 ms. */
async function exportOnce(server: Started, token: string, format: 'csv' | 'json'): Promise<ExportRun> {
  const pid = server.child.pid!;
  const rssBefore = rssMiB(pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(pid))), 20);
  const started = performance.now();
  let bytes = 0;
  let newlines = 0;
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/directory/export?format=${format}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200 || !res.body) throw new Error(`export answered ${res.status}`);
    for await (const chunk of res.body) {
      bytes += chunk.length;
      for (const byte of chunk) if (byte === 10) newlines++;
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  rssPeak = Math.max(rssPeak, rssMiB(pid));
  const run = { format, seconds, rows: format === 'csv' ? newlines - 1 : Number.NaN, mib: bytes / 2 ** 20, rssBefore, rssPeak };
  process.stdout.write(`export ${format}: ${Number.isNaN(run.rows) ? '' : `${run.rows} rows, `}${seconds.toFixed(2)} s, ${run.mib.toFixed(1)} MiB, RSS ${rssBefore.toFixed(0)} → peak ${rssPeak.toFixed(0)} MiB\n`);
  return run;
}

/**
 * Runs `load` while one profile (the first reader's) keeps changing, at most 10 times a second (a
 * change every 100 ms after the previous one was answered). Every change moves
 * the directory's data version: every node's search cache applies the change to its cached counts and
 * drops the pages the profile was or is in (docs/directory.md).
 */
async function whileAProfileChanges<T>(server: Started, token: string, load: () => Promise<T>): Promise<{ result: T; writes: number }> {
  const profiles = `http://127.0.0.1:${server.port}/api/v1/directory/profiles`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetch(profiles, { method: 'POST', headers, body: JSON.stringify({ name: 'Bench Writer', country: COUNTRIES[0] }) });
  if (created.status !== 201) throw new Error(`creating the changing profile answered ${created.status}`);
  const { id } = (await created.json()) as { id: string };
  let running = true;
  let writes = 0;
  let failure: string | undefined;
  const writer = (async () => {
    while (running) {
      const res = await fetch(`${profiles}/${id}`, { method: 'PATCH', headers, body: JSON.stringify({ country: pick(COUNTRIES), program: pick(PROGRAMS) }) });
      if (res.status !== 200) throw new Error(`changing the profile answered ${res.status}`);
      writes++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })().catch((err: Error) => {
    failure = err.message;
  });
  const result = await load().finally(async () => {
    running = false;
    await writer;
  });
  if (failure) throw new Error(failure);
  return { result, writes };
}

async function runOn(database: 'SQLite' | 'PostgreSQL') {
  const server = await start('community-server.ts', database === 'PostgreSQL' ? { BENCH_POSTGRES: '1' } : {});
  const info = server.info as unknown as CommunityInfo;
  process.stdout.write(`community on ${database}: seeded in ${info.seedSeconds.toFixed(0)} s (directory ${info.directorySeconds.toFixed(0)} s)\n`);
  const asReader = (req: object) => ({ ...req, headers: { authorization: `Bearer ${pick(info.readerTokens)}` } });
  try {
    // First from a cold start (no warm-up: the first search of each of the 256 filters counts it), then cached.
    const searchCold = await measure(`${database}: GET /directory/search with two facet filters (varied), as a member, from a cold start`, server, {
      path: '/',
      warmup: false,
      requests: [{ method: 'GET', setupRequest: (req) => asReader({ ...req, path: `/api/v1/directory/search?${facetQuery()}` }) }],
    });
    const search = await measure(`${database}: GET /directory/search with two facet filters (varied), as a member, cached`, server, {
      path: '/',
      requests: [{ method: 'GET', setupRequest: (req) => asReader({ ...req, path: `/api/v1/directory/search?${facetQuery()}` }) }],
    });
    const searchText = await measure(`${database}: GET /directory/search?q=<a skill>&country=<varied>`, server, {
      path: '/',
      requests: [{ method: 'GET', setupRequest: (req) => asReader({ ...req, path: `/api/v1/directory/search?q=${pick(['rust', 'sql', 'python', 'teaching'])}&country=${pick(COUNTRIES)}` }) }],
    });
    const { result: [searchWhileWriting, wholeWhileWriting], writes } = await whileAProfileChanges(server, info.readerTokens[0]!, async () => [
      await measure(`${database}: GET /directory/search with two facet filters (varied), a profile changing ≤ 10 times/s`, server, {
        path: '/',
        requests: [{ method: 'GET', setupRequest: (req) => asReader({ ...req, path: `/api/v1/directory/search?${facetQuery()}` }) }],
      }),
      await measure(`${database}: GET /directory/search (the whole directory), a profile changing ≤ 10 times/s`, server, {
        path: '/api/v1/directory/search',
        requests: [{ method: 'GET', setupRequest: asReader }],
      }),
    ] as const);
    process.stdout.write(`profile changes during the searches: ${writes}\n`);
    const feedOne = await measure(`${database}: GET /feed (home, following ${info.counts.followed}), 1 connection`, server, {
      path: '/api/v1/feed',
      connections: 1,
      requests: [{ method: 'GET', setupRequest: asReader }],
    });
    const feed = await measure(`${database}: GET /feed (home, following ${info.counts.followed}), ${info.readerTokens.length} readers`, server, {
      path: '/api/v1/feed',
      requests: [{ method: 'GET', setupRequest: asReader }],
    });
    const feedTop = await measure(`${database}: GET /feed?sort=top`, server, {
      path: '/api/v1/feed?sort=top',
      requests: [{ method: 'GET', setupRequest: asReader }],
    });
    const csv = await exportOnce(server, info.readerTokens[0]!, 'csv');
    const json = await exportOnce(server, info.readerTokens[0]!, 'json');
    return { database, info, rows: [searchCold, search, searchText, searchWhileWriting, wholeWhileWriting, feedOne, feed, feedTop], searchCold, search, searchWhileWriting, wholeWhileWriting, writes, feedOne, exports: [csv, json] };
  } finally {
    await stop(server);
  }
}

/** A search target is met only by a run that answered every request (a run that timed out has no p99). */
const answeredUnder50 = (row: Row) => row.rps > 0 && row.errors === 0 && row.p99 < 50;
/** The issue sets the search target on SQLite; PostgreSQL's figures are read against the same mark, and say so. */
const searchVerdict = (database: string, row: Row) => (database === 'SQLite' ? scaledVerdict(answeredUnder50(row)) : answeredUnder50(row) ? 'under 50 ms' : 'over 50 ms');
const searchTarget = (database: string) => (database === 'SQLite' ? 'p99 < 50 ms' : "p99 (the issue's 50 ms target is for SQLite)");

export async function communitySection(baseline: Row): Promise<Section> {
  const runs = [await runOn('SQLite')];
  if (process.env.BENCH_DATABASE_URL) runs.push(await runOn('PostgreSQL'));
  const { counts } = runs[0]!.info;
  const exportRows = runs.flatMap((r) => r.exports.map((e) => `| ${r.database} | ${e.format} | ${Number.isNaN(e.rows) ? '–' : e.rows.toLocaleString('en')} | ${e.seconds.toFixed(2)} | ${e.mib.toFixed(1)} | ${e.rssBefore.toFixed(0)} | ${e.rssPeak.toFixed(0)} |`));
  const targets = runs.flatMap((r) => {
    const csv = r.exports[0]!;
    return [
      `- ${r.database}: directory search with two facet filters, ${searchTarget(r.database)} at ${connections} connections: cached **${r.search.p99} ms** — ${searchVerdict(r.database, r.search)}; from a cold start (each filter's first search counts it) **${r.searchCold.p99} ms** — ${searchVerdict(r.database, r.searchCold)}`,
      `- ${r.database}: the same while a profile keeps changing (${r.writes} changes in ${2 * (loadSeconds + 2)} s; every change moves the data version the search caches follow): **${r.searchWhileWriting.p99} ms** — ${searchVerdict(r.database, r.searchWhileWriting)}; the whole directory: p99 ${r.wholeWhileWriting.p99} ms`,
      `- ${r.database}: full export of ${counts.profiles.toLocaleString('en')} profiles (CSV) < 5 s: **${csv.seconds.toFixed(2)} s**, server RSS peak ${csv.rssPeak.toFixed(0)} MiB (+${(csv.rssPeak - csv.rssBefore).toFixed(0)}) — ${scaledVerdict(csv.seconds < 5)}`,
      `- ${r.database}: home feed page (20 posts) for a reader following ${counts.followed} authors: p50 **${r.feedOne.p50} ms**, p99 ${r.feedOne.p99} ms alone`,
    ];
  });
  return {
    title: 'Community and directory',
    body: `Seeded: ${counts.profiles.toLocaleString('en')} directory profiles as the directory's import stores them, inserted in batches (${runs.map((r) => `${r.info.directorySeconds.toFixed(0)} s on ${r.database}`).join(', ')}),
${counts.posts.toLocaleString('en')} posts by ${counts.authors.toLocaleString('en')} authors (bulk-inserted as community stores them), and 20 readers who each follow ${counts.followed} authors.
Searches draw two facet filters per request (country + program, department + industry, or country + industry), each answer
with its total and six facet counts. "From a cold start" means empty search caches: each filter's first search counts
its facets from the node's in-memory facet index (which a node loads at start; the server loads it again after the seed,
as a node started on that data would) and reads its first page from the database. The "1 connection" row is the time
of one feed page on an otherwise idle server.

${table(runs.flatMap((r) => r.rows), baseline)}

| export | format | rows | seconds | MiB | server RSS before | server RSS peak |
|---|---|---:|---:|---:|---:|---:|
${exportRows.join('\n')}

${targets.join('\n')}

Run to run (2026-12-06, the same code, quiet machine): the cold-start row varies most; three runs gave a SQLite
p99 of 32, 51 and 38 ms (the table is the last), the cached row 18–23 ms. The server's RSS is about 690 MiB since
SQLite keeps its temporary data (sorts and groupings of the facet searches among it) in memory, against about 390
with \`SQLITE_TEMP_STORE=FILE\` (docs/configuration.md), whose searches were slower (cached p99 28 ms).`,
  };
}

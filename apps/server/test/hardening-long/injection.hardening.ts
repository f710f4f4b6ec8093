import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/core/config/config.js';
import { createDemoClock, seedDemo } from '../../src/flows/demo-seed.js';
import { resolver } from '../hardening/openapi-fuzz.js';
import { createInjectableModule } from '../support/injectable.module.js';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { listOperations, prepareIds, signInAsDemoAdmin, targetFor, type Api, type Target } from './injection-targets.js';

const CONTROL = '/api/v1/injectable/widgets';
// Measured on the shared 2-CPU machine (2026-12-05, load 15-18 from other work): one scan at a time
// and four at once both took about 7.5 minutes for SQLite's 36 routes; sqlmap's own CPU was 85 s of
// that, the rest the server answering ~80 parameters × ~320 payloads. The server (one Node process)
// and sqlmap share two CPUs: three at once keep both busy, more only queue.
const SCANS_AT_ONCE = 3;
// Catches a hang, not slowness: the scans of one database took 7.5 minutes (SQLite) to over 10
// (PostgreSQL) on the loaded machine; the whole file took 50 minutes before --union-cols.
const SCAN_LIMIT_MS = 1_200_000;
const SMALL_SCHOOL = { teachers: 2, students: 6, courses: 2, weeks: 2 };

/** Runs sqlmap at level 2 on every query parameter of one URL; true when it finds an injection. */
function sqlmap(url: string, dbms: string, authorization: string): Promise<{ injectable: boolean; output: string }> {
  // A folder per scan: sqlmap keeps its session per host, and --flush-session of one scan would wipe another's.
  const outputDir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-sqlmap-'));
  const args = [
    '-u', url, '--batch', '--level=2', '--risk=1', `--dbms=${dbms}`, '--technique=BEU', '--threads=4', '--flush-session', `--output-dir=${outputDir}`, '--disable-coloring', `--headers=Authorization: ${authorization}`,
    // Without a range, sqlmap's UNION test calls `_orderByTechnique()` unbounded (lib/techniques/union/test.py):
    // once `ORDER BY 1` compares like the baseline and `ORDER BY <random>` does not (a false signal on
    // `sort`-like parameters) it takes ORDER BY as usable and, while pages keep comparing alike, climbs
    // in steps of 10 columns (ORDER_BY_STEP) towards 1,000 (ORDER_BY_MAX) before it bisects: 109
    // columns and about 7 minutes of sqlmap's CPU on one route. With --union-cols the climb is off
    // (`not conf.uCols`): it only bisects inside the range, and its "custom" UNION tests replace the
    // fixed 1-10 and 11-20 ones, so 1-20 keeps exactly what level 2 covers.
    '--union-cols=1-20',
    // About 320 requests per parameter: one connection for them instead of one each.
    '--keep-alive',
  ];
  return new Promise((resolve) => {
    const child = spawn('sqlmap', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', () => {
      rmSync(outputDir, { recursive: true, force: true });
      resolve({ injectable: /identified the following injection point|is vulnerable/.test(output), output });
    });
  });
}

/** The demo school, written through the services into the database the server process will use. */
async function seedSchool(databaseUrl: string, dataDir: string): Promise<void> {
  const clock = createDemoClock();
  const config = loadConfig({ cwd: dataDir, env: { NODE_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' } });
  // With the control module, so that every migration the server process expects is applied here, in order.
  const lyceum = await buildApp({ config: { ...config, jobs: { ...config.jobs, concurrency: 0 } }, clock, extraModules: [createInjectableModule], logger: false });
  try {
    await seedDemo({ ...lyceum.product, clock }, SMALL_SCHOOL);
  } finally {
    await lyceum.close();
  }
}

describeEachDialect('SQL injection: sqlmap against every list and search route', (dialect) => {
  let testDb: TestDatabase;
  let dataDir: string;
  let server: ServerProcess;
  let api: Api;
  let targets: Target[];

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-sqlmap-data-'));
    await seedSchool(testDb.url, dataDir);
    // One token for the whole run: the scans outlast the default 15-minute access token.
    server = await startServerProcess({ DATABASE_URL: testDb.url, DATA_DIR: dataDir, LYCEUM_TEST_INJECTABLE: '1', AUTH_ACCESS_TOKEN_TTL_SECONDS: '7200' });
    api = await signInAsDemoAdmin(server.baseUrl);
    const ids = await prepareIds(api);
    const doc = (await api.get('/openapi.json')).body;
    const resolve = resolver(doc);
    targets = [];
    for (const op of listOperations(doc)) targets.push(await targetFor(api, op, ids, resolve));
    // Seeding, compiling the server in its own process and a few hundred baseline requests: minutes when the machine is busy.
  }, 300_000);
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await testDb?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts every scan from a 2xx answer that ran the route’s query', () => {
    for (const t of targets) process.stdout.write(`[${dialect}] baseline ${t.status} rows ${String(t.rows).padStart(3)} ${t.route} ?${t.url.searchParams}\n`);
    expect(targets.length).toBeGreaterThan(30);
    expect(targets.filter((t) => t.status < 200 || t.status >= 300).map((t) => `${t.status} ${t.route}`)).toEqual([]);
  });

  it('finds the deliberately injectable control route and nothing else', async () => {
    const results: Array<{ route: string; injectable: boolean }> = [];
    const scan = async (target: Target) => {
      const url = `${server.baseUrl}${target.url.pathname}?${target.url.searchParams}`;
      const { injectable, output } = await sqlmap(url, dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL', api.authorization);
      results.push({ route: target.route, injectable });
      process.stdout.write(`[${dialect}] ${injectable ? 'INJECTABLE' : 'clean     '} baseline ${target.status} rows ${target.rows} ${target.route} (${[...target.url.searchParams.keys()].join(', ')})\n`);
      if (target.route !== CONTROL && injectable) process.stdout.write(output.slice(-3000));
    };
    const queue = targets.filter((t) => t.status >= 200 && t.status < 300);
    await Promise.all(
      Array.from({ length: SCANS_AT_ONCE }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) await scan(next);
      }),
    );
    expect(results.find((r) => r.route === CONTROL)?.injectable).toBe(true);
    expect(results.filter((r) => r.injectable && r.route !== CONTROL)).toEqual([]);
  }, SCAN_LIMIT_MS);
});

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';

interface Parameter {
  name: string;
  in: string;
  schema?: { type?: string; enum?: unknown[]; minimum?: number; format?: string };
}
interface Operation {
  parameters?: Parameter[];
  'x-access'?: string;
}

// About 35 routes per database: up to 15 minutes on SQLite, whose one connection serialises the scans' queries.
const SCANS_AT_ONCE = 6;

/** Every list and search route of the document: GETs that page (`limit`) or search (`q`). */
function listRoutes(doc: { paths: Record<string, Record<string, Operation>> }) {
  return Object.entries(doc.paths).flatMap(([route, ops]) => {
    const op = ops.get;
    const query = (op?.parameters ?? []).filter((p) => p.in === 'query');
    if (!op || !query.some((p) => p.name === 'limit' || p.name === 'q')) return [];
    return [{ route, query, access: op['x-access'] ?? 'public' }];
  });
}

const sample = (p: Parameter): string => {
  const s = p.schema ?? {};
  if (s.enum?.length) return String(s.enum[0]);
  if (s.type === 'integer' || s.type === 'number') return String(Math.max(1, s.minimum ?? 1));
  if (s.type === 'boolean') return 'true';
  if (s.format === 'date-time') return '2026-01-01T00:00:00Z';
  return 'algebra';
};

/** Runs sqlmap at level 2 on every query parameter of one URL; true when it finds an injection. */
function sqlmap(url: string, dbms: string, authorization: string, outputDir: string): Promise<{ injectable: boolean; output: string }> {
  const args = ['-u', url, '--batch', '--level=2', '--risk=1', `--dbms=${dbms}`, '--technique=BEU', '--threads=4', '--flush-session', `--output-dir=${outputDir}`, '--disable-coloring', `--headers=Authorization: ${authorization}`];
  return new Promise((resolve) => {
    const child = spawn('sqlmap', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', () => resolve({ injectable: /identified the following injection point|is vulnerable/.test(output), output }));
  });
}

describeEachDialect('SQL injection: sqlmap against every list and search route', (dialect) => {
  let testDb: TestDatabase;
  let server: ServerProcess;
  let outputDir: string;
  // The test authenticator of the widgets fixture: a user holding every dash-free permission.
  let authorization = 'Bearer test:usr_sqlmap';

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
    server = await startServerProcess({ DATABASE_URL: testDb.url, LYCEUM_TEST_INJECTABLE: '1' });
    outputDir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-sqlmap-'));
    const doc = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>> };
    const permissions = new Set(Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op['x-access'] ?? '')).filter((a) => a.startsWith('permission:')).map((a) => a.slice('permission:'.length)));
    authorization += `:${[...permissions].filter((p) => /^[a-z:]+$/.test(p)).join(',')}`;
    await fetch(`${server.baseUrl}/api/v1/widgets`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'algebra', size: 1 }) });
  });
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await testDb?.drop();
    if (outputDir) rmSync(outputDir, { recursive: true, force: true });
  });

  it('finds the deliberately injectable control route and nothing else', async () => {
    const doc = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>> };
    const routes = listRoutes(doc);
    const results: Array<{ route: string; injectable: boolean }> = [];
    const scan = async ({ route, query }: (typeof routes)[number]) => {
      const url = new URL(`${server.baseUrl}${route.replace(/\{[^}]+\}/g, 'x')}`);
      for (const p of query) if (p.name !== 'cursor') url.searchParams.set(p.name, sample(p));
      if (route === '/api/v1/injectable/widgets') url.searchParams.set('name', 'algebra');
      const { injectable, output } = await sqlmap(url.toString(), dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL', authorization, outputDir);
      results.push({ route, injectable });
      process.stdout.write(`[${dialect}] ${injectable ? 'INJECTABLE' : 'clean     '} ${route} (${[...url.searchParams.keys()].join(', ')})\n`);
      if (route !== '/api/v1/injectable/widgets' && injectable) process.stdout.write(output.slice(-3000));
    };
    // sqlmap mostly waits on the server: a few scans at once keep the suite's time bounded as routes are added.
    const queue = [...routes];
    await Promise.all(Array.from({ length: SCANS_AT_ONCE }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await scan(next);
    }));
    expect(results.find((r) => r.route === '/api/v1/injectable/widgets')?.injectable).toBe(true);
    expect(results.filter((r) => r.injectable && r.route !== '/api/v1/injectable/widgets')).toEqual([]);
    expect(results.length).toBeGreaterThan(2);
  }, 2_400_000);
});

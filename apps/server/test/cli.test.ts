import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { freePort } from './support/redis-server.js';
import { until } from './support/until.js';

const run = promisify(execFile);
const main = new URL('../src/main.ts', import.meta.url).pathname;
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs `lyceum <args>` as an operator would, in a fresh data folder. */
async function lyceum(args: string[], env: Record<string, string> = {}, cwd = mkdtempSync(path.join(os.tmpdir(), 'lyceum-cli-'))) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', tsx, main, ...args], { cwd, env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env } });
    return { code: 0, stdout, stderr, cwd };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, cwd };
  }
}

// Every call starts a fresh Node that compiles the server with tsx: seconds each, more on a busy machine.
describe('the lyceum command', { timeout: 120_000 }, () => {
  it('explains itself', async () => {
    const { code, stdout } = await lyceum(['help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/migrate up\|down\|status/);
  });

  it('stops on bad configuration with one clear line per problem and exit code 78', async () => {
    const { code, stderr } = await lyceum(['migrate', 'status'], { PORT: 'abc', SQLITE_SYNCHRONOUS: 'OFF' });
    expect(code).toBe(78);
    expect(stderr).toContain('Invalid configuration:');
    expect(stderr).toContain('  - PORT: must be a whole number, got "abc" (example: PORT=3000)');
    expect(stderr).toContain('  - SQLITE_SYNCHRONOUS: must be one of FULL, NORMAL, got "OFF" (example: SQLITE_SYNCHRONOUS=NORMAL)');
  });

  it('stops `serve` with one line and exit code 69 when Redis does not answer, and migrates without it', async () => {
    const env = { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, PORT: '0' };
    const serve = await lyceum(['serve'], env);
    expect(serve.code).toBe(69);
    expect(serve.stderr).toMatch(/^REDIS_URL: Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer within 5 s \(connect ECONNREFUSED [^)]+\)\. Check that Redis is running.*\n$/);
    expect(serve.stdout).toBe('');
    const migrate = await lyceum(['migrate', 'up'], env);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stderr).toBe('');
  });

  it('stops with one line and exit code 69 when PostgreSQL does not answer', async () => {
    const { code, stdout, stderr } = await lyceum(['migrate', 'status'], { DATABASE_URL: `postgres://lyceum:hunter2@127.0.0.1:${await freePort()}/lyceum` });
    expect(code).toBe(69);
    expect(stderr).toMatch(/^DATABASE_URL: PostgreSQL at postgres:\/\/lyceum:\*\*\*@127\.0\.0\.1:\d+\/lyceum did not answer within 10 s \([^\n]*\)\. Check that PostgreSQL is running[^\n]*\n$/);
    expect(stdout).toBe('');
  });

  it('migrates up, reports status, reverts one, and backs up SQLite online', async () => {
    const up = await lyceum(['migrate', 'up']);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/Applied:\n {2}\d{14}_core_events/);
    const dataDir = path.join(up.cwd, 'data');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dataDir, 'secrets', 'cursor-secret')).mode & 0o777).toBe(0o600);

    const status = await lyceum(['migrate', 'status'], {}, up.cwd);
    expect(status.stdout).not.toContain('pending');
    const down = await lyceum(['migrate', 'down'], {}, up.cwd);
    expect(down.stdout).toMatch(/^Reverted \d{14}_[a-z0-9]+_/);
    expect((await lyceum(['migrate', 'status'], {}, up.cwd)).stdout).toMatch(/^pending +\d{14}_[a-z0-9]+_/m);
    expect((await lyceum(['migrate', 'up'], {}, up.cwd)).code).toBe(0);

    const target = path.join(up.cwd, 'backup.db');
    const backup = await lyceum(['backup', target], {}, up.cwd);
    expect(backup.code).toBe(0);
    const copy = new Database(target, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copy.prepare("select count(*) as n from core_migrations").get()).toMatchObject({ n: expect.any(Number) });
    } finally {
      copy.close();
    }
  }, 300_000);

  it('prints the pg_dump recipe for PostgreSQL instead of a file backup', async () => {
    const { code, stdout } = await lyceum(['backup'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(code).toBe(0);
    expect(stdout).toContain('pg_dump --format=custom');
  });

  it('explains `seed` when --demo is missing, and refuses demo data in production without --force', async () => {
    const usage = await lyceum(['seed']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage: lyceum seed --demo [--force]');
    const production = await lyceum(['seed', '--demo'], { NODE_ENV: 'production', HOST: '127.0.0.1' });
    expect(production.code).toBe(1);
    expect(production.stderr).toContain('Refusing to load demo data with NODE_ENV=production');
    expect(statSync(path.join(production.cwd, 'data'), { throwIfNoEntry: false })).toBeUndefined(); // nothing was created
  });

  it('serve prints where everything is and what to do next, and what it prints works', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'lyceum-cli-'));
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', PORT: '0' };
    const server = spawn(process.execPath, ['--import', tsx, main, 'serve'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await until(() => output.includes('Next steps:') && /Load demo data:.*\n/.test(output), { within: 90_000, what: 'the start banner' });
      const url = (label: string) => new RegExp(`${label}:\\s+(http://\\S+)`).exec(output)?.[1];
      expect(output).toContain('Lyceum is running (embedded: SQLite at data/lyceum.db)');
      const api = url('API')!;
      expect(api).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      expect((await fetch(url('Reference')!)).headers.get('content-type')).toMatch(/^text\/html/);
      expect(((await (await fetch(url('OpenAPI')!.replace(/\)$/, ''))).json()) as { openapi: string }).openapi).toMatch(/^3\.1/);
      expect(await (await fetch(url('Health')!)).json()).toMatchObject({ status: 'ok' });

      // The two ways to the first administrator it prints: the console command (as printed, run
      // through npm from the repository) and the one-time setup token.
      const command = /Create the first admin:\s+npm run lyceum -- (.+)\n/.exec(output)![1]!;
      const args = command.match(/"[^"]*"|\S+/g)!.map((arg) => arg.replace(/^"|"$/g, ''));
      expect(args).toEqual(['create-admin', '--email', 'you@example.com', '--name', 'Your Name']);
      expect(output).toContain(`No administrator exists yet. Create one with:\n  npm run lyceum -- ${command}\n`);
      const token = /"setupToken":"([^"]+)"/.exec(output)![1]!;
      const setup = (email: string) =>
        fetch(`${api}/admin/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setupToken: token, email, password: 'a long admin passphrase', displayName: 'First Admin' }) });
      expect((await setup('first@example.com')).status).toBe(201);
      expect((await setup('second@example.com')).status).toBe(409); // one-time
      const created = await run('npm', ['run', '--silent', 'lyceum', '--', ...args], { cwd: path.resolve(main, '../../../..'), env: { ...env, DATA_DIR: path.join(cwd, 'data') } });
      expect(created.stdout).toContain('Password: ');
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
  });

  it('seeds the demo school in a fresh data folder and prints the demo accounts', async () => {
    const { code, stdout, stderr } = await lyceum(['seed', '--demo']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('Demo data created.');
    expect(stdout).toContain('admin@demo.lyceum.example');
    expect(stdout).toContain('Password: lyceum demo 2026');
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { options } from './options.js';

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'lyceum-config-'));

function problemsOf(env: Record<string, string>, cwd = tempDir()): string[] {
  try {
    loadConfig({ env, cwd });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('needs nothing to start: SQLite under ./data on port 3000', () => {
    const cwd = tempDir();
    const config = loadConfig({ env: {}, cwd });
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.database).toMatchObject({ kind: 'sqlite', file: path.join(cwd, 'data', 'lyceum.db'), synchronous: 'FULL', cacheMb: 64, tempStore: 'MEMORY' });
    expect(config.migrateOnStart).toBe(true);
    expect(config.redis).toBeUndefined();
    expect(config.publicUrl).toBe('http://localhost:3000');
  });

  it('selects PostgreSQL and Redis from their URLs', () => {
    const config = loadConfig({ env: { DATABASE_URL: 'postgres://u:p@db:5432/lyceum', REDIS_URL: 'redis://cache:6379' }, cwd: tempDir() });
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/lyceum', poolMax: 10, timeoutMs: 3000 });
    expect(config.redis).toEqual({ url: 'redis://cache:6379', prefix: 'lyceum:', timeoutMs: 1000 });
  });

  it('reports every bad value at once, one line each, with the name and an example', () => {
    const problems = problemsOf({ PORT: 'eighty', LOG_LEVEL: 'loud', JOB_CONCURRENCY: '-1', CORS_ORIGINS: 'https://a.example/path' });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^PORT: must be a whole number, got "eighty" \(example: PORT=3000\)$/);
    expect(problems.find((p) => p.startsWith('LOG_LEVEL'))).toMatch(/must be one of fatal, error/);
    expect(problems.find((p) => p.startsWith('JOB_CONCURRENCY'))).toMatch(/between 0 and 256/);
    expect(problems.find((p) => p.startsWith('CORS_ORIGINS'))).toMatch(/origin like https/);
  });

  it('never prints the password of a rejected database URL', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://admin:hunter2@db/lyceum' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DATABASE_URL: must use postgres:\/\//);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('requires an explicit HOST in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['HOST: must be set explicitly in production (example: HOST=0.0.0.0)']);
    expect(problemsOf({ NODE_ENV: 'production', HOST: '0.0.0.0' })).toEqual([]);
  });

  it('reads a secret from the file named by <NAME>_FILE', () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, 'cursor.key'), `${'k'.repeat(40)}\n`);
    const config = loadConfig({ env: { CURSOR_SECRET_FILE: 'cursor.key' }, cwd });
    expect(config.secrets.cursorSecret).toBe('k'.repeat(40));
    expect(problemsOf({ CURSOR_SECRET_FILE: 'missing.key' }, cwd)).toEqual(['CURSOR_SECRET_FILE: cannot read "missing.key" (ENOENT)']);
  });

  it('loads .env, and the real environment wins over it', () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, '.env'), 'PORT=4000\nLOG_LEVEL=debug\n');
    const config = loadConfig({ env: { PORT: '5000' }, cwd });
    expect(config.port).toBe(5000);
    expect(config.logLevel).toBe('debug');
  });

  it('is documented option by option in docs/configuration.md', () => {
    const doc = readFileSync(new URL('../../../../../docs/configuration.md', import.meta.url), 'utf8');
    const missing = Object.keys(options).filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});

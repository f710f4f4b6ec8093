import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { describe, inject } from 'vitest';
import type { DatabaseConfig } from '../../src/core/config/config.js';
import { createDatabase, type Database } from '../../src/core/db/database.js';
import { coreMigrations, createMigrator, type MigrationSource } from '../../src/core/db/migrator.js';

/** Set by `.ci/run`; without them the PostgreSQL / Redis variants are skipped with a visible name. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || undefined;

export type DialectName = 'sqlite' | 'postgres';

export interface TestDatabase {
  config: DatabaseConfig;
  /** The URL a server process would be given in DATABASE_URL. */
  url: string;
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  memory?: boolean;
  /** A sealed template (see sealAsTemplate) to start from: an SQLite file or a PostgreSQL database name. */
  copyOf?: string;
  /** Name prefix of the PostgreSQL database. */
  prefix?: string;
}

/**
 * A database of its own for one test file or case: an SQLite file in a temp folder, or a fresh
 * PostgreSQL database created on TEST_DATABASE_URL's server and dropped afterwards; empty, or a
 * copy of a template.
 */
export async function createTestDatabase(kind: DialectName, options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    if (options.memory) {
      return { config: sqliteConfig(':memory:'), url: 'sqlite::memory:', drop: async () => {} };
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-test-'));
    const file = path.join(dir, 'lyceum.db');
    if (options.copyOf) copyFileSync(options.copyOf, file);
    return { config: sqliteConfig(file), url: `sqlite://${file}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `${options.prefix ?? 'lyceum_test'}_${Date.now()}_${randomBytes(4).toString('hex')}`;
  // WAL_LOG (the default) copies a small template in a fraction of a second; FILE_COPY would force two checkpoints.
  await adminQuery(options.copyOf ? `create database ${name} template ${options.copyOf}` : `create database ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    config: { kind: 'postgres', url: url.toString(), poolMax: 10, timeoutMs: 10_000 },
    url: url.toString(),
    drop: () => adminQuery(`drop database if exists ${name} with (force)`),
  };
}

/**
 * Makes a closed, migrated test database fit to be copied, and returns what `copyOf` takes. The
 * copy must look like a freshly migrated database: PostgreSQL keeps generated secrets in a table
 * that buildApp creates, so it goes. A PostgreSQL template is cloned only while nobody is
 * connected to it, so connections to it are refused from now on; an SQLite file leaves WAL mode,
 * which folds the WAL into the file itself (the copy's first open turns WAL on again).
 */
export async function sealAsTemplate(testDb: TestDatabase): Promise<string> {
  if (testDb.config.kind === 'sqlite') {
    const handle = new Sqlite(testDb.config.file);
    try {
      handle.pragma('journal_mode = DELETE');
    } finally {
      handle.close();
    }
    return testDb.config.file;
  }
  const client = new pg.Client({ connectionString: testDb.url });
  await client.connect();
  try {
    await client.query('drop table if exists core_secrets');
  } finally {
    await client.end();
  }
  const name = new URL(testDb.url).pathname.slice(1);
  await adminQuery(`alter database ${name} allow_connections false`);
  return name;
}

function sqliteConfig(file: string): DatabaseConfig {
  return { kind: 'sqlite', file, synchronous: 'NORMAL', busyTimeoutMs: 5000 };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Per dialect, the migrated template that test apps copy (made by test/support/migrated-templates.ts). */
    migratedTemplates?: Partial<Record<DialectName, string>>;
  }
}

/** The run's migrated template for a dialect; none when the run's configuration made none. */
export function migratedTemplate(dialect: DialectName): string | undefined {
  return inject('migratedTemplates')?.[dialect];
}

export const availableDialects: DialectName[] = TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/**
 * Runs a suite once per database. Without TEST_DATABASE_URL the PostgreSQL run is registered as
 * skipped under a name that says why, so a green run never hides that it did not happen.
 */
export function describeEachDialect(name: string, suite: (dialect: DialectName) => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    if (dialect === 'postgres' && !TEST_DATABASE_URL) {
      describe.skip(`${name} [postgres: skipped, TEST_DATABASE_URL not set]`, () => suite(dialect));
    } else {
      describe(`${name} [${dialect}]`, () => suite(dialect));
    }
  }
}

/** A migrated database with core's tables (plus any module migrations given), and its cleanup. */
export async function openTestDatabase(
  kind: DialectName,
  options: { memory?: boolean; migrations?: MigrationSource[] } = {},
): Promise<{ database: Database; testDb: TestDatabase; close(): Promise<void> }> {
  const testDb = await createTestDatabase(kind, options);
  const database = createDatabase(testDb.config);
  await createMigrator(database, [coreMigrations, ...(options.migrations ?? [])]).up();
  return {
    database,
    testDb,
    close: async () => {
      await database.close();
      await testDb.drop();
    },
  };
}

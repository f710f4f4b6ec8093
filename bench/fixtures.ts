/**
 * What the data-heavy bench servers share: a Lyceum on a database of its own (removed on exit), many
 * accounts inserted in bulk, and real sessions for them. Runs inside the server processes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { buildApp, type LyceumApp, type ModuleFactory } from '../apps/server/src/app.js';
import type { Principal } from '../apps/server/src/core/http/access.js';
import { loadConfig } from '../apps/server/src/core/config/config.js';
import { withTransaction } from '../apps/server/src/core/db/transaction.js';
import { newId } from '../apps/server/src/core/ids.js';
import { permissionsOf, type Role } from '../apps/server/src/modules/identity/index.js';
import type { UserRow } from '../apps/server/src/modules/identity/identity.tables.js';
import { createPasswordHasher } from '../apps/server/src/modules/identity/passwords.js';

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Builds and starts Lyceum on a fresh SQLite file, or on a fresh PostgreSQL database on
 * BENCH_DATABASE_URL's server when `postgres` is set; both are removed when the process is told to
 * stop (SIGTERM, as `stop()` in support.ts sends) or ends.
 */
export async function benchApp(options: { postgres?: boolean; env?: Record<string, string>; extraModules?: ModuleFactory[] } = {}): Promise<LyceumApp> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-bench-'));
  let databaseUrl = '';
  let dropDatabase = async () => {};
  const serverUrl = process.env.BENCH_DATABASE_URL;
  if (options.postgres) {
    if (!serverUrl) throw new Error('BENCH_DATABASE_URL is not set');
    const name = `lyceum_bench_${Date.now()}_${randomBytes(3).toString('hex')}`;
    await adminQuery(serverUrl, `create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDatabase = () => adminQuery(serverUrl, `drop database if exists ${name} with (force)`);
  }
  const config = loadConfig({
    cwd: dataDir,
    env: {
      DATA_DIR: dataDir,
      PORT: '0',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_MAX: '1000000',
      AUTH_RATE_LIMIT_MAX: '1000000',
      AUTH_ACCESS_TOKEN_TTL_SECONDS: '7200', // a full run outlasts the default 15 minutes
      DATABASE_URL: databaseUrl,
      ...options.env,
    },
  });
  // BENCH_LOG=error (or warn, info) shows the server's log, e.g. to see why requests failed.
  const lyceum = await buildApp({ config, logger: process.env.BENCH_LOG ? { level: process.env.BENCH_LOG } : false, extraModules: options.extraModules });
  let stopping: Promise<void> | undefined;
  const cleanup = () =>
    (stopping ??= (async () => {
      // A server still working through a backlog may take long to close: its data goes regardless.
      await Promise.race([lyceum.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 15_000))]);
      await dropDatabase().catch((err: Error) => process.stderr.write(`could not drop the bench database: ${err.message}\n`));
      rmSync(dataDir, { recursive: true, force: true });
    })());
  process.once('SIGTERM', () => void cleanup().then(() => process.exit(0)));
  process.once('disconnect', () => void cleanup().then(() => process.exit(0)));
  await lyceum.listen();
  return lyceum;
}

export const portOf = (lyceum: LyceumApp) => {
  const address = lyceum.app.server.address();
  return typeof address === 'object' && address ? address.port : 0;
};

export const principalOf = (userId: string, role: Role): Principal => ({ kind: 'user', userId, roles: [role], permissions: permissionsOf([role]) });

/**
 * After a bulk seed, before serving, what autovacuum would do on PostgreSQL: planner statistics and
 * the full-text indexes' pending entries moved into the index. A PostgreSQL server may run without
 * autovacuum (this machine's does), and without statistics the planner guesses: the directory's
 * word search read every profile of a country (~0.5 s a query). Nothing to do on SQLite.
 */
export async function settleSeed(lyceum: LyceumApp): Promise<void> {
  const { database } = lyceum.core.config;
  // A connection of its own: the app's pool fails a query after its timeout, and this one takes longer.
  if (database.kind === 'postgres') await adminQuery(database.url, 'vacuum analyze');
}

/** Inserts rows in chunks (one multi-row insert each) inside one transaction. */
export async function insertMany(lyceum: LyceumApp, table: string, rows: Array<Record<string, unknown>>, chunk = 500): Promise<void> {
  await withTransaction(lyceum.core.database.db, async (tx) => {
    for (let i = 0; i < rows.length; i += chunk) await tx.insertInto(table).values(rows.slice(i, i + chunk)).execute();
  });
}

export const BENCH_PASSWORD = 'correct horse battery staple';

/**
 * Creates verified accounts in bulk: one row each, all sharing one argon2id hash of BENCH_PASSWORD
 * (hashing 10,000 passwords would measure argon2, not the feature). Returns their ids, in order.
 */
export async function bulkUsers(lyceum: LyceumApp, count: number, role: Role, label: string = role): Promise<string[]> {
  const hash = await createPasswordHasher(lyceum.core.config.auth.argon2).hash(BENCH_PASSWORD);
  const now = new Date().toISOString();
  const rows = Array.from({ length: count }, (_, i) => ({
    id: newId('usr'),
    email: `${label}${i}.${randomBytes(3).toString('hex')}@bench.example`,
    email_verified_at: now,
    display_name: `${label[0]!.toUpperCase()}${label.slice(1)} ${i}`,
    password_hash: hash,
    roles: role,
    status: 'active',
    version: 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  }));
  await insertMany(lyceum, 'identity_user', rows);
  return rows.map((r) => r.id);
}

/** Signs users in through identity's own session service (no password check); returns their access tokens. */
export async function accessTokens(lyceum: LyceumApp, userIds: string[], role: Role): Promise<string[]> {
  const { identity } = lyceum.product;
  const tokens: string[] = [];
  for (let i = 0; i < userIds.length; i += 500) {
    const batch = userIds.slice(i, i + 500);
    const created = await withTransaction(lyceum.core.database.db, async (tx) => {
      const sessions = [];
      for (const id of batch) {
        const user = await tx.selectFrom('identity_user').selectAll().where('id', '=', id).executeTakeFirstOrThrow() as UserRow;
        sessions.push(await identity.sessions.create(tx, user, { ip: '127.0.0.1', userAgent: `bench ${role}` }));
      }
      return sessions;
    });
    for (const session of created) tokens.push((await identity.sessions.firstTokens(session)).accessToken);
  }
  return tokens;
}

/** A deterministic pseudo-random generator, so that every run seeds the same data. */
export function seededRandom(seed = 42) {
  let state = seed >>> 0;
  const next = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
  };
}


import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { Database } from './database.js';

/** A folder of migration files named `<yyyymmddhhmmss>_<what>.ts`, owned by one module. */
export interface MigrationSource {
  owner: string;
  dir: URL;
}

export interface MigrationStatus {
  name: string;
  executedAt: string | null;
}

const FILE = /^(\d{14})_([a-z0-9_]+)\.(ts|js|mjs)$/;

/**
 * Merges every module's migrations into one list ordered by timestamp. A migration's name is
 * `<timestamp>_<owner>_<what>`, so names sort in timestamp order and say who owns the change.
 */
export async function collectMigrations(sources: MigrationSource[]): Promise<Record<string, Migration>> {
  const migrations: Record<string, Migration> = {};
  for (const { owner, dir } of sources) {
    const folder = fileURLToPath(dir);
    for (const file of (await readdir(folder)).sort()) {
      if (file.endsWith('.d.ts') || file.includes('.test.')) continue;
      const match = FILE.exec(file);
      if (!match) throw new Error(`Migration file ${path.join(folder, file)} must be named <yyyymmddhhmmss>_<what>.ts`);
      const name = `${match[1]}_${owner}_${match[2]}`;
      const mod = (await import(pathToFileURL(path.join(folder, file)).href)) as Partial<Migration>;
      if (typeof mod.up !== 'function') throw new Error(`Migration ${name} exports no up()`);
      migrations[name] = { up: mod.up, down: mod.down };
    }
  }
  return migrations;
}

export interface LyceumMigrator {
  up(): Promise<string[]>;
  /** Reverts the most recent migration (or `steps` of them). */
  down(steps?: number): Promise<string[]>;
  status(): Promise<MigrationStatus[]>;
  pending(): Promise<string[]>;
}

export function createMigrator(database: Database, sources: MigrationSource[]): LyceumMigrator {
  const migrator = async () =>
    new Migrator({
      db: database.db,
      provider: { getMigrations: () => collectMigrations(sources) },
      migrationTableName: 'core_migrations',
      migrationLockTableName: 'core_migration_lock',
      // Modules add migrations independently: a release may bring one dated before another module's
      // latest applied migration. They share no tables, so each pending one simply runs, in name order.
      allowUnorderedMigrations: true,
    });

  // Kysely locks inside its own tables, but two nodes racing to create those tables can still
  // collide on PostgreSQL; a cluster-wide lock around the whole run makes concurrent starts safe.
  const locked = (fn: (m: Migrator) => Promise<MigrationResultSet>) =>
    database.dialect.withGlobalLock(database.db, 'migrate', async () => {
      const { error, results = [] } = await fn(await migrator());
      if (error) throw error;
      return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
    });

  return {
    up: () => locked((m) => m.migrateToLatest()),
    async down(steps = 1) {
      const done: string[] = [];
      for (let i = 0; i < steps; i++) {
        const reverted = await locked((m) => m.migrateDown());
        if (!reverted.length) break;
        done.push(...reverted);
      }
      return done;
    },
    async status() {
      const all = await (await migrator()).getMigrations();
      return all.map((m) => ({ name: m.name, executedAt: m.executedAt ? m.executedAt.toISOString() : null }));
    },
    async pending() {
      return (await this.status()).filter((m) => m.executedAt === null).map((m) => m.name);
    },
  };
}


/** Core's own tables (events, jobs, idempotency, mail outbox, secrets). */
export const coreMigrations: MigrationSource = { owner: 'core', dir: new URL('../migrations/', import.meta.url) };

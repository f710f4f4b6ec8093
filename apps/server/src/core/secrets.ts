import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from './db/database.js';

/**
 * Secrets Lyceum generates for itself (signing keys, the cursor key) when the operator gives none.
 * Embedded mode keeps them in files under DATA_DIR/secrets (mode 0600); cluster mode keeps them in
 * the database so that every node uses the same ones.
 */
export interface SecretStore {
  /** Returns the secret named `name`, creating it with `generate` exactly once across all nodes. */
  getOrCreate(name: string, generate: () => string): Promise<string>;
}

export const randomSecret = (): string => randomBytes(32).toString('hex');

const NAME = /^[a-z0-9-]+$/;

export function fileSecretStore(dataDir: string): SecretStore {
  const folder = path.join(dataDir, 'secrets');
  return {
    async getOrCreate(name, generate) {
      if (!NAME.test(name)) throw new Error(`Invalid secret name ${name}`);
      await mkdir(folder, { recursive: true, mode: 0o700 });
      const file = path.join(folder, name);
      try {
        // 'wx' fails if the file exists: two processes starting at once cannot overwrite each other.
        await writeFile(file, generate(), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      return (await readFile(file, 'utf8')).trim();
    },
  };
}

/**
 * The table is created here rather than by a migration because secrets are needed before
 * migrations run (the cursor key, signing keys); the lock makes concurrent node starts safe.
 */
export function databaseSecretStore({ db, dialect }: Database): SecretStore {
  const ensureTable = () =>
    dialect.withGlobalLock(db, 'secrets', () =>
      db.schema
        .createTable('core_secrets')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute(),
    );
  let ready: Promise<unknown> | undefined;
  return {
    async getOrCreate(name, generate) {
      await (ready ??= ensureTable());
      await db
        .insertInto('core_secrets')
        .values({ name, value: generate(), created_at: new Date().toISOString() })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const row = await db.selectFrom('core_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
      return row.value as string;
    },
  };
}

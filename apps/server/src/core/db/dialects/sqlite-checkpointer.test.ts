import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../../../test/support/until.js';
import { createDatabase } from '../database.js';
import { startCheckpointer } from './sqlite-checkpointer.js';

describe('the SQLite checkpointer thread', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-checkpointer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('moves committed pages into the database file while the connection itself never checkpoints', async () => {
    const file = path.join(dir, 'moves.db');
    const database = createDatabase({ kind: 'sqlite', file, synchronous: 'FULL', busyTimeoutMs: 1000 });
    try {
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(database.db);
      expect(rows[0]!.wal_autocheckpoint).toBe(0);
      await sql`create table t (id integer primary key, v text not null)`.execute(database.db);
      const before = statSync(file).size;
      // About 200 pages: far below the 1,000 at which SQLite would checkpoint by itself.
      for (let i = 0; i < 200; i++) await sql`insert into t (v) values (${'x'.repeat(3000)})`.execute(database.db);
      await until(() => statSync(file).size >= before + 150 * 4096, { what: 'the rows reach the database file', every: 50 });
      const { rows: counted } = await sql<{ n: number }>`select count(*) as n from t`.execute(database.db);
      expect(counted[0]!.n).toBe(200);
    } finally {
      await database.close();
    }
  });

  it('if the thread stops on its own, the connection checkpoints by itself again', async () => {
    const pragmas: string[] = [];
    // A connection whose file the thread cannot open: the thread fails at once.
    const handle = { name: path.join(dir, 'missing', 'gone.db'), open: true, pragma: (text: string) => void pragmas.push(text) } as unknown as SqliteDatabase.Database;
    const checkpointer = startCheckpointer(handle, { synchronous: 'FULL', busyTimeoutMs: 1000 });
    await until(() => pragmas.length >= 2, { what: 'automatic checkpoints restored', every: 50 });
    expect(pragmas).toEqual(['wal_autocheckpoint = 0', 'wal_autocheckpoint = 1000']);
    await checkpointer.close();
  });
});

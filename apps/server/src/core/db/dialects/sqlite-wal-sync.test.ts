import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { heldSyncs, openWithHeldSyncs, settled, turn } from '../../../../test/support/held-syncs.js';
import { withTransaction } from '../transaction.js';
import { WalSync } from './sqlite-wal-sync.js';

describe('WAL sync (SQLITE_SYNCHRONOUS=FULL)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-wal-sync-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const walFile = (name: string) => {
    const file = path.join(dir, `${name}-wal`);
    writeFileSync(file, '');
    return file;
  };

  it('a commit settles after a sync that began after it; the commits made during a sync share the next one', async () => {
    const syncs = heldSyncs();
    const wal = new WalSync(walFile('share'), syncs.datasync);
    const first = wal.committed();
    await syncs.begun();
    const later = [wal.committed(), wal.committed(), wal.committed()];
    expect(await settled(first, ...later)).toEqual([false, false, false, false]);
    await syncs.release();
    // The first sync began before the later commits: it does not cover them.
    expect(await settled(first, ...later)).toEqual([true, false, false, false]);
    expect(syncs.started()).toBe(1);
    await syncs.release();
    expect(await settled(...later)).toEqual([true, true, true]);
    expect(syncs.started()).toBe(0);
    await wal.close();
  });

  it('a read waits only while a commit is not yet synced', async () => {
    const syncs = heldSyncs();
    const wal = new WalSync(walFile('read'), syncs.datasync);
    expect(wal.durable()).toBeUndefined();
    const commit = wal.committed();
    const read = wal.durable()!;
    expect(await settled(commit, read)).toEqual([false, false]);
    await syncs.release();
    expect(await settled(commit, read)).toEqual([true, true]);
    expect(wal.durable()).toBeUndefined();
    await wal.close();
  });

  it('after a failed sync every acknowledgement fails with its error, later ones too', async () => {
    const syncs = heldSyncs();
    const wal = new WalSync(walFile('fail'), syncs.datasync);
    const commit = wal.committed().then(() => 'acknowledged', (error: Error) => error.message);
    await syncs.fail(new Error('EIO: i/o error, fdatasync'));
    expect(await commit).toMatch('EIO');
    await expect(wal.committed()).rejects.toThrow('EIO');
    await expect(wal.durable()).rejects.toThrow('EIO');
    expect(syncs.started()).toBe(0);
    await wal.close();
  });

  it('really syncs: the file opens at the first sync and closes when done', async () => {
    const wal = new WalSync(walFile('real'));
    await Promise.all([wal.committed(), wal.committed()]);
    expect(wal.durable()).toBeUndefined();
    await wal.close();
  });

  describe('in the group-commit driver', () => {
    it('commits with NORMAL on the connection and acknowledges nothing, nor shows it, before the WAL is synced', async () => {
      const file = path.join(dir, 'driver.db');
      const { syncs, db, handle, readNow, close } = openWithHeldSyncs(file);
      try {
        expect(handle.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
        const created = sql`create table t (id text primary key)`.execute(db);
        await syncs.release();
        await created;

        const observer = new SqliteDatabase(file, { readonly: true });
        const count = () => (observer.prepare('select count(*) as c from t').get() as { c: number }).c;
        try {
          const insert = (id: string) => withTransaction(db, (tx) => tx.insertInto('t').values({ id }).execute());
          const first = insert('a');
          await syncs.begun();
          // Committed (another connection sees it), not yet synced: not acknowledged.
          expect(count()).toBe(1);
          expect(syncs.started()).toBe(1);
          // Reads that saw it wait too.
          const prepared = readNow('select id from t', [])!;
          const kysely = db.selectFrom('t').select('id').execute();
          // The connection is not held during the sync: the next write commits meanwhile.
          const second = insert('b');
          await turn();
          expect(count()).toBe(2);
          expect(await settled(first, prepared, kysely, second)).toEqual([false, false, false, false]);

          await syncs.release();
          expect(await settled(first, prepared, kysely, second)).toEqual([true, true, true, false]);
          expect(await prepared).toEqual([{ id: 'a' }]);
          expect(await kysely).toEqual([{ id: 'a' }]);
          await syncs.release();
          expect(await settled(second)).toEqual([true]);
        } finally {
          observer.close();
        }
      } finally {
        await close();
      }
    });
  });
});

/** Test helpers for SQLite's WAL sync (core/db/dialects/sqlite-wal-sync.ts): syncs the test holds back, and turns of the event loop. */
import { Kysely } from 'kysely';
import { openSqlite } from '../../src/core/db/dialects/sqlite.js';
import { WalSync } from '../../src/core/db/dialects/sqlite-wal-sync.js';

/** A turn of the event loop, long enough for what awaited a settled promise to run. */
export const turn = () => new Promise((resolve) => setTimeout(resolve, 10));

/** A datasync held back until the test lets it return, so the test can watch who waits for it. */
export function heldSyncs() {
  const pending: Array<{ release: () => void; fail: (error: Error) => void }> = [];
  const datasync = () => new Promise<void>((resolve, reject) => pending.push({ release: resolve, fail: reject }));
  return {
    datasync,
    started: () => pending.length,
    /** Waits for a sync to begin (the first opens the file first, which takes its time on a busy disk). */
    async begun(): Promise<void> {
      for (const deadline = Date.now() + 10_000; pending.length === 0; await turn()) {
        if (Date.now() > deadline) throw new Error('no sync began');
      }
    },
    /** Lets the oldest sync return, and the event loop turn so that whoever awaited it runs. */
    async release(): Promise<void> {
      await this.begun();
      pending.shift()!.release();
      await turn();
    },
    async fail(error: Error): Promise<void> {
      await this.begun();
      pending.shift()!.fail(error);
      await turn();
    },
  };
}

/** Whether each promise has settled, read after a turn of the event loop. */
export async function settled(...promises: Array<Promise<unknown>>): Promise<boolean[]> {
  const done = promises.map(() => false);
  promises.forEach((promise, i) => promise.then(() => (done[i] = true), () => (done[i] = true)));
  await turn();
  return done;
}

/**
 * A SQLite file opened as the server opens it with SQLITE_SYNCHRONOUS=FULL, its WAL syncs held back
 * until the test releases them. `close` lets every sync still held return, so that the connection can close.
 */
export function openWithHeldSyncs(file: string) {
  const syncs = heldSyncs();
  const { dialect, handle, readNow } = openSqlite({ file, synchronous: 'FULL', busyTimeoutMs: 1000 }, new WalSync(`${file}-wal`, syncs.datasync));
  const db = new Kysely<any>({ dialect });
  return {
    syncs,
    db,
    handle,
    readNow,
    async close(): Promise<void> {
      const closing = db.destroy();
      while (syncs.started() > 0) await syncs.release();
      await closing;
    },
  };
}

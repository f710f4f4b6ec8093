import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

/** How often committed pages move from the WAL into the database file. */
const CHECKPOINT_EVERY_MS = 200;
/** Checkpoints that fail in a row (5 s of them) before the thread gives up and the connection checkpoints again by itself. */
const MAX_FAILURES = 25;
/** SQLite's own default: what the connection goes back to if the checkpointer stops. */
const AUTOCHECKPOINT_PAGES = 1000;

/**
 * The checkpointer's thread: its own connection to the file, checkpointing in PASSIVE mode (never
 * waiting for, nor blocking, the writer or readers). Closing it as the last connection also does the
 * final checkpoint. Plain CommonJS run with `eval`, so it needs no build or loader of its own.
 */
const THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
db.pragma('synchronous = ' + workerData.synchronous);
let failures = 0;
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
  } catch (err) {
    // A passing lock (recovery of the WAL index) is tried again next turn; one that lasts ends the thread.
    if (++failures >= workerData.maxFailures) throw err;
  }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the thread after the main connection has closed; its connection, closing last, checkpoints what is left. */
  close(): Promise<void>;
}

/**
 * Moves checkpoints off the event loop's thread. With SQLite's automatic checkpoint, the commit that
 * fills the WAL past 1,000 pages copies them into the database file and syncs it, on the thread that
 * serves requests: measured under the quiz-submission load, checkpoints were over half of the time
 * spent committing. Here the connection's automatic checkpoint is off and a worker thread with a
 * connection of its own checkpoints every 200 ms. Commits still append to the WAL and (with FULL)
 * sync it before they are acknowledged: durability is unchanged. If the thread ever stops on its
 * own, the connection checkpoints automatically again.
 */
export function startCheckpointer(handle: SqliteDatabase.Database, options: { synchronous: string; busyTimeoutMs: number }): Checkpointer {
  const worker = new Worker(THREAD, {
    eval: true,
    workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), file: handle.name, everyMs: CHECKPOINT_EVERY_MS, maxFailures: MAX_FAILURES, ...options },
  });
  worker.unref();
  handle.pragma('wal_autocheckpoint = 0');
  let closing = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // A thread that fails ends too: 'exit' follows 'error'.
  worker.once('exit', () => {
    if (!closing && handle.open) handle.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  });
  worker.on('error', () => undefined);
  return {
    async close() {
      closing = true;
      // Held by nothing else, the process could end before the thread has closed its connection.
      worker.ref();
      worker.postMessage('close');
      await exited;
    },
  };
}

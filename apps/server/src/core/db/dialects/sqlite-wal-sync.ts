import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

interface Waiter {
  /** The number of the last commit it waits for. */
  upTo: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Makes commits durable off the event loop's thread, for `SQLITE_SYNCHRONOUS=FULL`.
 *
 * SQLite's FULL syncs the WAL inside each commit, and better-sqlite3 runs the commit on the thread
 * that serves requests: under load that sync was most of a commit's time. So the connection commits
 * with `synchronous = NORMAL` (which syncs the WAL at checkpoints and when its header is rewritten,
 * never in a commit), and the driver asks this class before it acknowledges anything: a commit is
 * acknowledged once an `fdatasync` of the WAL that began after it has returned. The syncs run on
 * libuv's thread pool, one at a time; one sync serves every commit made before it began, so while
 * one runs the next commits queue for the next. What a commit wrote is then on disk, as with FULL.
 *
 * The WAL file is opened at the first sync (a write has created it by then) and keeps its inode for
 * as long as this process holds a connection: SQLite deletes it only when the last one closes.
 * If a sync fails, the kernel may have dropped the pages it could not write, so a later sync that
 * succeeds would prove nothing: every later acknowledgement fails with that error until a restart.
 */
export class WalSync {
  /** Commits counted so far, and how many of them the last finished sync covers. */
  #commits = 0;
  #synced = 0;
  readonly #waiting: Waiter[] = [];
  /** A sync loop runs; `#loop` is its promise. */
  #syncing = false;
  #loop: Promise<void> = Promise.resolve();
  #wal: FileHandle | undefined;
  #failure: { error: unknown } | undefined;

  constructor(
    private readonly walFile: string,
    private readonly datasync: (file: FileHandle) => Promise<void> = (file) => file.datasync(),
  ) {}

  /** Counts a commit that may have written; settles once a sync that began after it has returned. */
  committed(): Promise<void> {
    return this.#until(++this.#commits);
  }

  /**
   * For a read: settles once everything committed so far is synced, so that nobody is shown a write
   * before it is durable. Undefined when it already is, so that a read need not wait a turn.
   */
  durable(): Promise<void> | undefined {
    return this.#synced === this.#commits && !this.#failure ? undefined : this.#until(this.#commits);
  }

  /** Waits for the syncs asked for, then closes the file. */
  async close(): Promise<void> {
    while (this.#syncing) await this.#loop;
    await this.#wal?.close();
    this.#wal = undefined;
  }

  #until(upTo: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    const waiting = new Promise<void>((resolve, reject) => this.#waiting.push({ upTo, resolve, reject }));
    if (!this.#syncing) this.#loop = this.#syncAll();
    return waiting;
  }

  /** Syncs until every commit counted is covered. The flag drops in the same turn as the last check, so no commit is left behind. */
  async #syncAll(): Promise<void> {
    this.#syncing = true;
    try {
      while (this.#synced < this.#commits) {
        const upTo = this.#commits;
        await this.datasync(this.#wal ?? (await this.#openWal()));
        this.#synced = upTo;
        while (this.#waiting.length > 0 && this.#waiting[0]!.upTo <= upTo) this.#waiting.shift()!.resolve();
      }
    } catch (error) {
      this.#failure = { error };
      for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
    } finally {
      this.#syncing = false;
    }
  }

  /** Opens the WAL, and syncs its directory once: the file's name must survive a power cut as its content does. */
  async #openWal(): Promise<FileHandle> {
    // Windows opens no directory as a file (NTFS journals names itself).
    if (process.platform !== 'win32') await syncDirectory(path.dirname(this.walFile));
    // Writable: Windows flushes only a file opened for writing.
    this.#wal = await open(this.walFile, 'r+');
    return this.#wal;
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // A file system that cannot sync a directory says so with EINVAL; its names are as durable as it makes them.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

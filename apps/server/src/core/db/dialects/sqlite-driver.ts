import path from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import { SelectQueryNode, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';
import type { Checkpointer } from './sqlite-checkpointer.js';
import type { StatementSource } from './sqlite-statements.js';
import type { WalSync } from './sqlite-wal-sync.js';

/**
 * The most loans one commit may carry. The first of them waits for all the others, so this bounds
 * how long an acknowledgement can wait for its commit when the connection never rests.
 */
const MAX_BATCH = 64;
const MEMBER = 'lyceum_batch_member';
/** How many connections of this process have each database file open. */
const openHere = new Map<string, number>();
/** Statements that change rows (Kysely writes SQL keywords in lower case). */
const WRITE = /^(insert|update|delete|replace)\b/i;

/** One outer SQLite transaction shared by the loans that ran while it was open. */
class Batch {
  /** Transactions and statements that ran in it. */
  size = 0;
  readonly committed: Promise<void>;
  settle!: (error?: unknown) => void;
  /** Opened by prepared reads (`read`), and nothing has written in it: it sees only committed data. */
  constructor(readonly readOnly = false) {
    this.committed = new Promise((resolve, reject) => {
      this.settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    // Each member awaits it; a failure nobody is left to observe must not crash the process.
    this.committed.catch(() => undefined);
  }
}

/** One turn with the connection, from acquire to release. */
class Loan implements DatabaseConnection {
  /** Set while a Kysely transaction runs on this loan. */
  transaction = false;
  /** The loan gave the connection back before Kysely released it, to wait for the batch's commit. */
  ended = false;

  constructor(private readonly driver: GroupCommitSqliteDriver) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.executeOn(this, query) as Promise<QueryResult<R>>;
  }

  streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    return this.driver.streamOn(this, query) as AsyncIterableIterator<QueryResult<R>>;
  }
}

/**
 * Kysely driver for the one SQLite connection of this process, with group commit.
 *
 * Every commit with `synchronous = FULL` waits for the disk, and better-sqlite3 waits on the event
 * loop's thread. So a transaction that ends does not commit: it releases its savepoint, hands the
 * connection on and waits. Requests arrive in separate turns of the event loop, so the commit is
 * left to the next turn (`setImmediate`): whatever runs before then (the next requests' reads and
 * transactions) joins the same outer transaction, and one commit, one disk sync, serves them all.
 * If the connection is busy when that turn comes, whoever holds it commits as soon as it is done;
 * MAX_BATCH bounds a batch. Nobody's promise settles before the commit, so an acknowledgement
 * still means durable, and a read that ran inside the batch returns only once what it saw is
 * committed. A transaction that rolls back undoes its savepoint alone.
 *
 * With a WalSync (FULL), the commit itself does not wait for the disk: the connection hands on at
 * once and the batch settles when the WAL's sync returns (sqlite-wal-sync.ts). Everything that could
 * show a commit to anyone (a batch's members, a read outside a batch, a stream) waits for that sync.
 */
export class GroupCommitSqliteDriver implements Driver {
  #held = false;
  readonly #waiters: Array<() => void> = [];
  #batch: Batch | undefined;
  #flushScheduled = false;
  /** The batch's turn to commit came while the connection was busy: the holder commits when done. */
  #flushDue = false;

  /** The database file, or undefined for a private in-memory database. */
  readonly #file: string | undefined;

  constructor(
    private readonly handle: SqliteDatabase.Database,
    private readonly statements: StatementSource,
    private readonly options: {
      /** Closed after the connection, so that its own connection is the last and checkpoints what is left. */
      checkpointer?: Checkpointer;
      /** Syncs the WAL before anything committed is acknowledged or shown (FULL). */
      walSync?: WalSync;
    } = {},
  ) {
    this.#file = handle.memory ? undefined : path.resolve(handle.name);
    if (this.#file) openHere.set(this.#file, (openHere.get(this.#file) ?? 0) + 1);
  }

  /**
   * Another connection of this process uses the same file (two nodes in one test process): a batch
   * must then commit before the event loop turns, or that connection's busy wait, which blocks the
   * thread, would wait for a commit that cannot come until it gives up.
   */
  #fileShared(): boolean {
    return this.#file !== undefined && openHere.get(this.#file)! > 1;
  }

  /**
   * A prepared read (database.prepareRead) run at once, outside Kysely, when nobody holds the
   * connection and no write waits in a batch for its commit; undefined otherwise, and the caller
   * queues like any query. Each statement outside a transaction is a read transaction of its own,
   * whose locking (two system calls on the WAL index) costs more than a primary-key read: so the
   * reads of one event-loop turn share one read-only batch, committed on the next turn like any
   * batch, and each settles after that commit. A write or transaction that comes while it is open
   * commits it first, so that reads never wait for a disk sync nor see a write before its commit.
   */
  read(sql: string, parameters: readonly unknown[]): Promise<unknown[]> | undefined {
    if (this.#held || (this.#batch && !this.#batch.readOnly)) return undefined;
    const statement = this.statements.prepare(sql);
    // With another connection on the file, a snapshot kept to the next turn could miss its commits.
    if (this.#fileShared() && !this.#batch) {
      const rows = statement.all(parameters);
      return this.#synced(false)?.then(() => rows) ?? Promise.resolve(rows);
    }
    const batch = this.#batch ?? this.#open(true);
    batch.size++;
    this.#scheduleFlush();
    const rows = this.#guard(() => statement.all(parameters));
    if (batch.size >= MAX_BATCH) this.#commitBatch();
    return batch.committed.then(() => rows);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock();
    return new Loan(this);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    this.#writable().size++;
    // Every transaction is a savepoint of the batch: it can roll back alone, and its statements are
    // told apart from the others' in a statement log.
    this.#run(`savepoint ${MEMBER}`);
    (connection as Loan).transaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const loan = connection as Loan;
    this.#run(`release ${MEMBER}`);
    loan.transaction = false;
    await this.#finishInBatch(loan);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const loan = connection as Loan;
    // False after a failed commit: that batch is already rolled back and settled.
    if (!loan.transaction || !this.#batch) return;
    loan.transaction = false;
    if (!this.handle.inTransaction) {
      // SQLite rolled the whole transaction back on its own (disk full, I/O error): the batch is lost.
      this.#fail(new Error('SQLite rolled back the transaction after an error; nothing in it was committed'));
      return;
    }
    this.#run(`rollback to ${MEMBER}`);
    this.#run(`release ${MEMBER}`);
  }

  async savepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#run(`savepoint "${name}"`);
  }

  async rollbackToSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#run(`rollback to "${name}"`);
  }

  async releaseSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#run(`release "${name}"`);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const loan = connection as Loan;
    if (loan.ended) return;
    loan.ended = true;
    try {
      if (this.#batch && this.#flushDue) this.#commitBatch();
      else if (this.#batch) this.#scheduleFlush();
    } finally {
      this.#unlock();
    }
  }

  async destroy(): Promise<void> {
    // Shutdown drains requests first; a batch still waiting for its turn is committed, one whose
    // holder never finished has no acknowledged member and fails.
    if (this.#batch && !this.#held) this.#commitBatch();
    else if (this.#batch) this.#fail(new Error('the database was closed before the transaction committed'));
    if (this.#file) openHere.set(this.#file, openHere.get(this.#file)! - 1);
    // Synced while the connection still holds the WAL open: closing the last connection deletes it.
    await this.options.walSync?.close();
    this.handle.close();
    await this.options.checkpointer?.close();
  }

  /**
   * A statement of a loan. Outside a transaction, a read or a write joins the open batch, and a lone
   * write opens one, so that it too shares the next commit; anything else (a pragma, DDL) never runs
   * inside a shared transaction: the batch commits first.
   */
  async executeOn(loan: Loan, query: CompiledQuery): Promise<QueryResult<unknown>> {
    await this.#resume(loan);
    const statement = this.#guard(() => this.statements.prepare(query.sql));
    let joined: Batch | undefined;
    if (!loan.transaction) {
      const write = WRITE.test(query.sql);
      if (this.#batch && !write && !statement.reader) this.#commitBatch();
      else if (write) (joined = this.#writable()).size++;
      else if (this.#batch) (joined = this.#batch).size++;
    }
    const result = this.#guard(() => {
      if (statement.reader) return { rows: statement.all(query.parameters) };
      const { changes, lastInsertRowid } = statement.run(query.parameters);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    });
    if (joined && this.#batch === joined) await this.#finishInBatch(loan);
    // A statement outside any batch committed by itself: a pragma or DDL may have written.
    else if (!joined && !loan.transaction) await this.#synced(!statement.reader);
    return result;
  }

  /** A stream holds the connection while it is read, so it starts from committed data. */
  async *streamOn(loan: Loan, query: CompiledQuery): AsyncIterableIterator<QueryResult<unknown>> {
    if (!SelectQueryNode.is(query.query)) throw new Error('SQLite can only stream select queries');
    await this.#resume(loan);
    if (!loan.transaction) {
      if (this.#batch) this.#commitBatch();
      await this.#synced(false);
    }
    for (const row of this.statements.prepare(query.sql).iterate(query.parameters)) yield { rows: [row] };
  }

  /** A loan that ended early to wait for a commit and then runs more (`db.connection()`) queues again. */
  async #resume(loan: Loan): Promise<void> {
    if (!loan.ended) return;
    await this.#lock();
    loan.ended = false;
  }

  /**
   * A loan is done with the batch: it commits the batch now if that commit is due (or the batch
   * full), else leaves it to the next turn; then it hands the connection on and waits for the
   * batch to settle. A commit that fails throws here, and the loan keeps the connection until
   * Kysely releases it.
   */
  async #finishInBatch(loan: Loan): Promise<void> {
    const batch = this.#batch!;
    if (this.#flushDue || batch.size >= MAX_BATCH || this.#fileShared()) this.#commitBatch();
    else this.#scheduleFlush();
    loan.ended = true;
    this.#unlock();
    await batch.committed;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      if (!this.#batch) return;
      if (this.#held) {
        this.#flushDue = true;
        return;
      }
      try {
        this.#commitBatch();
      } catch {
        // The members got the error through the batch's promise.
      }
    });
  }

  #open(readOnly = false): Batch {
    this.#run('begin');
    return (this.#batch = new Batch(readOnly));
  }

  /** The batch a write joins: the open one, unless it holds only reads, which commit first. */
  #writable(): Batch {
    if (this.#batch?.readOnly) this.#commitBatch();
    return this.#batch ?? this.#open();
  }

  #commitBatch(): void {
    const batch = this.#batch!;
    this.#batch = undefined;
    this.#flushDue = false;
    try {
      this.#run('commit');
    } catch (error) {
      if (this.handle.inTransaction) this.#run('rollback');
      batch.settle(error);
      throw error;
    }
    // Read-only batches wrote nothing: they wait only for the commits they may have seen.
    const synced = this.#synced(!batch.readOnly);
    if (synced) synced.then(() => batch.settle(), (error: unknown) => batch.settle(error));
    else batch.settle();
  }

  /**
   * What must be on disk before a commit is shown (with a WalSync): after a commit that may have
   * written, a sync begun after it; for a read, the syncs of every commit it may have seen.
   * Undefined when nothing needs waiting for.
   */
  #synced(wrote: boolean): Promise<void> | undefined {
    const { walSync } = this.options;
    return wrote ? walSync?.committed() : walSync?.durable();
  }

  #fail(error: unknown): void {
    const batch = this.#batch!;
    this.#batch = undefined;
    this.#flushDue = false;
    if (this.handle.inTransaction) this.#run('rollback');
    batch.settle(error);
  }

  /** Runs a statement; if it failed in a way that made SQLite drop the open transaction, the batch fails. */
  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (this.#batch && !this.handle.inTransaction) this.#fail(error);
      throw error;
    }
  }

  #run(sql: string): void {
    this.statements.prepare(sql).run();
  }

  /** First come, first served; the connection passes straight to the next waiter. */
  async #lock(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #unlock(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }
}

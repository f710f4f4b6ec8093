import type SqliteDatabase from 'better-sqlite3';
import { SelectQueryNode, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';

/** Where statements come from: the connection's statement cache. */
export interface StatementSource {
  prepare(sql: string): SqliteDatabase.Statement;
}

/**
 * The most loans one commit may carry. The first of them waits for all the others, so this bounds
 * how long an acknowledgement can wait for its commit.
 */
const MAX_BATCH = 64;
const MEMBER = 'lyceum_batch_member';

/** One outer SQLite transaction shared by the loans that ran while it was open. */
class Batch {
  size = 1;
  readonly committed: Promise<void>;
  settle!: (error?: unknown) => void;
  constructor() {
    this.committed = new Promise((resolve, reject) => {
      this.settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    // Each member awaits it; a failure nobody is left to observe must not crash the process.
    this.committed.catch(() => undefined);
  }
}

/** One turn with the connection, from acquire to release. */
class Loan implements DatabaseConnection {
  /** Set while a Kysely transaction runs on this loan: `first` opened the batch, a `member` joined it. */
  transaction: 'first' | 'member' | undefined;
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
 * loop's thread. So when a transaction ends while others queue for the connection, it does not
 * commit: it releases its savepoint, hands the connection on, and waits. The next loans run inside
 * the same outer transaction, and the last of them (nobody left waiting, or MAX_BATCH reached)
 * commits for all: one disk sync for the lot. Nobody's promise settles before that commit, so an
 * acknowledgement still means durable, and a read that ran inside the batch returns only once what
 * it saw is committed. A transaction that rolls back undoes its savepoint alone. Without contention
 * nothing changes: `begin`, the statements, `commit`.
 */
export class GroupCommitSqliteDriver implements Driver {
  #held = false;
  readonly #waiters: Array<() => void> = [];
  #batch: Batch | undefined;

  constructor(
    private readonly handle: SqliteDatabase.Database,
    private readonly statements: StatementSource,
  ) {}

  /** Nobody holds the connection and no commit is pending: a statement may run at once, outside Kysely. */
  get idle(): boolean {
    return !this.#held && !this.#batch;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock();
    return new Loan(this);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const loan = connection as Loan;
    if (this.#batch) {
      this.#run(`savepoint ${MEMBER}`);
      this.#batch.size++;
      loan.transaction = 'member';
    } else {
      this.#run('begin');
      this.#batch = new Batch();
      loan.transaction = 'first';
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const loan = connection as Loan;
    if (loan.transaction === 'member') this.#run(`release ${MEMBER}`);
    loan.transaction = undefined;
    await this.#finishInBatch(loan);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const loan = connection as Loan;
    const kind = loan.transaction;
    loan.transaction = undefined;
    // Undefined after a failed commit: that batch is already rolled back and settled.
    if (!kind || !this.#batch) return;
    if (!this.handle.inTransaction) {
      // SQLite rolled the whole transaction back on its own (disk full, I/O error): the batch is lost.
      this.#fail(new Error('SQLite rolled back the transaction after an error; nothing in it was committed'));
    } else if (kind === 'first') {
      // The batch holds nothing else yet: members join only after the first has finished.
      this.#batch = undefined;
      this.#run('rollback');
    } else {
      this.#run(`rollback to ${MEMBER}`);
      this.#run(`release ${MEMBER}`);
      this.#batch.size--;
    }
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
      if (this.#batch && this.#waiters.length === 0) this.#commitBatch();
    } finally {
      this.#unlock();
    }
  }

  async destroy(): Promise<void> {
    // Shutdown drains requests first, so a batch still open here has no acknowledged member.
    if (this.#batch) this.#fail(new Error('the database was closed before the transaction committed'));
    this.handle.close();
  }

  /** A statement of a loan. Outside a transaction but inside a batch it joins the batch. */
  async executeOn(loan: Loan, query: CompiledQuery): Promise<QueryResult<unknown>> {
    // A loan that ended early to wait for a commit and then runs more (`db.connection()`) queues again.
    if (loan.ended) {
      await this.#lock();
      loan.ended = false;
    }
    const joined = this.#batch && !loan.transaction ? this.#batch : undefined;
    if (joined) joined.size++;
    const result = this.#guard(() => {
      const statement = this.statements.prepare(query.sql);
      if (statement.reader) return { rows: statement.all(query.parameters) };
      const { changes, lastInsertRowid } = statement.run(query.parameters);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    });
    if (joined && this.#batch === joined) await this.#finishInBatch(loan);
    return result;
  }

  /** A stream holds the connection while it is read, so it starts from committed data. */
  async *streamOn(loan: Loan, query: CompiledQuery): AsyncIterableIterator<QueryResult<unknown>> {
    if (!SelectQueryNode.is(query.query)) throw new Error('SQLite can only stream select queries');
    if (loan.ended) {
      await this.#lock();
      loan.ended = false;
    }
    if (this.#batch && !loan.transaction) this.#commitBatch();
    for (const row of this.statements.prepare(query.sql).iterate(query.parameters)) yield { rows: [row] };
  }

  /**
   * A loan is done with the batch: if others wait and the batch has room, hand the connection on and
   * wait for whoever commits; otherwise commit now (the loan keeps the connection until released).
   */
  async #finishInBatch(loan: Loan): Promise<void> {
    const batch = this.#batch!;
    if (this.#waiters.length > 0 && batch.size < MAX_BATCH) {
      loan.ended = true;
      this.#unlock();
      await batch.committed;
    } else {
      this.#commitBatch();
    }
  }

  #commitBatch(): void {
    const batch = this.#batch!;
    this.#batch = undefined;
    try {
      this.#run('commit');
    } catch (error) {
      if (this.handle.inTransaction) this.#run('rollback');
      batch.settle(error);
      throw error;
    }
    batch.settle();
  }

  #fail(error: unknown): void {
    const batch = this.#batch!;
    this.#batch = undefined;
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

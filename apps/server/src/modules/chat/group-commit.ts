import type { Db, Tx } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventInput, EventLog } from '../../core/events/types.js';

/** Queues events for the one append that ends the transaction. */
export type AppendLater = (events: ReadonlyArray<EventInput<unknown>>) => void;

/**
 * A write in two steps: `check` only reads (a refusal throws there), `apply` writes what was checked,
 * or returns it for the batch's `flush` to write with the others.
 */
export interface CheckedWrite<C, R, Q = unknown, A = unknown> {
  /**
   * The row the write locks first (a conversation's id). A batch checks and applies its writes in
   * this order, so that batches running side by side take their row locks in one order and never
   * deadlock.
   */
  lockOrder: string;
  /** What this write asks of the batch's one read (groupCommit's `read`), when there is one. */
  query?: Q;
  /**
   * `answer`: the batch read's answer to `query` (undefined without a `read`). What the batch's
   * earlier writes applied is not stored before `flush`: a write that must count it keeps track of
   * it by transaction.
   */
  check(tx: Tx, answer: A | undefined): Promise<C>;
  /** Its events go to `append`: they are stored after the batch's last write, all in one appendMany. */
  apply(tx: Tx, checked: C, append: AppendLater): Promise<R>;
}

interface Pending {
  write: CheckedWrite<any, any, any, any>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit: writes that arrive while a transaction is running wait, then share the next one,
 * so that a burst of messages costs one commit (SQLite's one writer, its fsync) instead of one each,
 * and one `flush` of their rows and one append of their events (a few multi-row statements each)
 * instead of a few statements each. The events keep the order of the writes, so a conversation's
 * events still follow its seqs.
 * Each write still settles only once its transaction has committed: an acknowledgement means durable.
 * A refusal in `check` touches nothing and concerns its write alone; a failure in `read`, `apply`,
 * `flush` or the append (a unique key raced, the database) rolls the batch back, and its writes run
 * again, each in its own transaction.
 *
 * This is on top of the SQLite driver's own group commit (core/db), and stays for both databases:
 * sends alone, each its own transaction and append, measured two to four times slower on SQLite
 * (the driver still shared their commits) and, on PostgreSQL, queued every commit behind the event
 * log's lock until the pool ran dry (docs/chat.md has the figures).
 *
 * `concurrency` batches may run at once. On PostgreSQL a batch spends most of its time on round
 * trips, one statement after another, so several batches run side by side on the pool; they queue
 * only where they must: on a shared conversation's row (the seq), and on the event log's lock, which
 * each takes last, for its one append and its commit. SQLite runs one transaction at a time, but a
 * batch that has committed may still wait for its disk sync, which leaves the connection free: a
 * second batch runs its transaction meanwhile, after the first's and seeing it.
 * A batch that fails is retried write by write after the batches already started: two messages that
 * one client sent without waiting for the first's acknowledgement may then be stored in the other
 * order (each still gets its own seq, without gaps).
 */
export function groupCommit<R, Q = unknown, A = unknown>(
  db: Db,
  events: EventLog,
  {
    maxBatch = 100,
    concurrency = 1,
    read,
    flush,
  }: {
    maxBatch?: number;
    concurrency?: number;
    /**
     * Runs once per transaction, before its first check, with the writes' queries in batch order;
     * answers each (same order): what every check must read, in one statement instead of one each.
     * Nothing of the batch is written before the last check, so an answer is what the write's own
     * read would have seen at its check.
     */
    read?: (tx: Tx, queries: Q[]) => Promise<A[]>;
    /** Runs once per transaction, after its writes were applied and before its append, with what they returned: rows written for the whole batch at once. */
    flush?: (tx: Tx, results: R[]) => Promise<void>;
  } = {},
) {
  const queue: Pending[] = [];
  let running = 0;

  /** One transaction for `batch`: each write checked then applied, then every event appended at once. */
  const transaction = (batch: Pending[]) =>
    withTransaction(db, async (tx) => {
      const outcomes: Outcome[] = [];
      const appended: Array<EventInput<unknown>> = [];
      const append: AppendLater = (inputs) => void appended.push(...inputs);
      const results: R[] = [];
      const answers = read ? await read(tx, batch.map((item) => item.write.query as Q)) : [];
      for (const [i, { write }] of batch.entries()) {
        let checked: unknown;
        try {
          checked = await write.check(tx, answers[i]);
        } catch (error) {
          outcomes.push({ ok: false, error });
          continue;
        }
        const value = (await write.apply(tx, checked, append)) as R;
        results.push(value);
        outcomes.push({ ok: true, value });
      }
      if (flush && results.length) await flush(tx, results);
      await events.appendMany(tx, appended);
      return outcomes;
    });

  const settle = (item: Pending, outcome: Outcome) => (outcome.ok ? item.resolve(outcome.value) : item.reject(outcome.error));

  async function run(batch: Pending[]) {
    let outcomes: Outcome[];
    try {
      outcomes = await transaction(batch);
    } catch {
      for (const item of batch) {
        try {
          settle(item, (await transaction([item]))[0]!);
        } catch (error) {
          item.reject(error);
        }
      }
      return;
    }
    batch.forEach((item, i) => settle(item, outcomes[i]!));
  }

  /** Starts batches while fewer than `concurrency` run; each that ends starts the next. */
  function pump() {
    while (running < concurrency && queue.length) {
      // Stable: writes with the same lock order (one conversation's sends) keep their order, so their events follow their seqs.
      const batch = queue.splice(0, maxBatch).sort((a, b) => (a.write.lockOrder < b.write.lockOrder ? -1 : a.write.lockOrder > b.write.lockOrder ? 1 : 0));
      running++;
      void run(batch).finally(() => {
        running--;
        pump();
      });
    }
  }

  return function commit<C>(write: CheckedWrite<C, R, Q, A>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      pump();
    });
  };
}

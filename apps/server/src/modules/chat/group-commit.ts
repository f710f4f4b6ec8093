import type { Db, Tx } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';

/** A write in two steps: `check` only reads (a refusal throws there), `apply` writes what was checked. */
export interface CheckedWrite<C, R> {
  check(tx: Tx): Promise<C>;
  apply(tx: Tx, checked: C): Promise<R>;
}

interface Pending {
  write: CheckedWrite<any, unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit: writes that arrive while a transaction is running wait, then share the next one,
 * so that a burst of messages costs one commit (SQLite's one writer, its fsync) instead of one each.
 * Each write still settles only once its transaction has committed: an acknowledgement means durable.
 * A refusal in `check` touches nothing and concerns its write alone; a failure in `apply` (a unique
 * key raced, the database) rolls the batch back, and its writes run again, each in its own transaction.
 */
export function groupCommit(db: Db, maxBatch = 100) {
  const queue: Pending[] = [];
  let flushing = false;

  const alone = async (item: Pending) => {
    try {
      item.resolve(await withTransaction(db, async (tx) => item.write.apply(tx, await item.write.check(tx))));
    } catch (error) {
      item.reject(error);
    }
  };

  async function run(batch: Pending[]) {
    const outcomes: Outcome[] = [];
    try {
      await withTransaction(db, async (tx) => {
        for (const { write } of batch) {
          let checked: unknown;
          try {
            checked = await write.check(tx);
          } catch (error) {
            outcomes.push({ ok: false, error });
            continue;
          }
          outcomes.push({ ok: true, value: await write.apply(tx, checked) });
        }
      });
    } catch {
      for (const item of batch) await alone(item);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  async function flush() {
    flushing = true;
    try {
      while (queue.length) await run(queue.splice(0, maxBatch));
    } finally {
      flushing = false;
    }
  }

  return function commit<C, R>(write: CheckedWrite<C, R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (!flushing) void flush();
    });
  };
}

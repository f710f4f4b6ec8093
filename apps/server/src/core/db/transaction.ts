import type { Db, Tx } from './database.js';

const afterCommitHooks = new WeakMap<Tx, Array<() => void>>();

/**
 * Runs `fn` in a transaction, or inside the caller's transaction when `db` already is one, so that
 * services compose. Callbacks registered with `afterCommit` run once the outermost transaction has
 * committed, never after a rollback.
 */
export async function withTransaction<T>(db: Db | Tx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db as Tx);
  const hooks: Array<() => void> = [];
  const result = await db.transaction().execute(async (tx) => {
    afterCommitHooks.set(tx, hooks);
    return fn(tx);
  });
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // A failing after-commit hook must not turn a committed write into an error for the caller.
    }
  }
  return result;
}

/** Registers work (dispatch, wake-ups) that must only happen once `tx` has committed. */
export function afterCommit(tx: Tx, hook: () => void): void {
  const hooks = afterCommitHooks.get(tx);
  if (!hooks) throw new Error('afterCommit() needs a transaction opened with withTransaction()');
  hooks.push(hook);
}

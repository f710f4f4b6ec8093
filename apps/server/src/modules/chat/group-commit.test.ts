import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect, openTestDatabase } from '../../../test/support/databases.js';
import type { Database, Tx } from '../../core/db/database.js';
import { afterCommit } from '../../core/db/transaction.js';
import type { EventInput, EventLog } from '../../core/events/types.js';
import { groupCommit, type CheckedWrite } from './group-commit.js';

/** Records each appendMany: the ids of the notes whose events it stored, and whether its transaction committed. */
function recordedAppends() {
  const calls: Array<{ ids: string[]; committed: boolean }> = [];
  const events = {
    async appendMany(tx: Tx, inputs: ReadonlyArray<EventInput<{ id: string }>>) {
      const call = { ids: inputs.map((e) => e.payload.id), committed: false };
      calls.push(call);
      afterCommit(tx, () => (call.committed = true));
      return [];
    },
  } as unknown as EventLog;
  return { calls, events };
}

describeEachDialect('group commit', (dialect) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: Database;

  beforeAll(async () => {
    opened = await openTestDatabase(dialect);
    database = opened.database;
    await database.db.schema.createTable('t_note').addColumn('id', 'text', (c) => c.primaryKey()).execute();
  });
  afterAll(() => opened.close());

  const stored = async () => (await database.db.selectFrom('t_note').select('id').orderBy('id').execute()).map((r) => r.id as string);
  /** Inserts `id`; refuses in `check` when told to; counts the transactions it committed in. */
  const note = (id: string, commits: Set<Tx>, refuse = false): CheckedWrite<void, string> => ({
    async check() {
      if (refuse) throw new Error(`refused ${id}`);
    },
    async apply(tx, _checked, append) {
      await tx.insertInto('t_note').values({ id }).execute();
      append([{ type: 'test.note.created', scopes: ['system'], payload: { id } }]);
      afterCommit(tx, () => commits.add(tx));
      return id;
    },
  });

  it('writes that arrive together share one transaction; a refusal concerns its write alone', async () => {
    const { calls, events } = recordedAppends();
    const commit = groupCommit(database.db, events);
    const commits = new Set<Tx>();
    const results = await Promise.allSettled([note('a1', commits), note('a2', commits), note('a3', commits, true), note('a4', commits)].map((w) => commit(w)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)))).toEqual(['a1', 'a2', 'Error: refused a3', 'a4']);
    expect(await stored()).toEqual(['a1', 'a2', 'a4']);
    // The first runs at once; the others waited for it and shared the next transaction, and one append of their events, in order.
    expect(commits.size).toBe(2);
    expect(calls).toEqual([
      { ids: ['a1'], committed: true },
      { ids: ['a2', 'a4'], committed: true },
    ]);
  });

  it('a write that fails rolls its batch back; the others then run alone and are kept', async () => {
    const { calls, events } = recordedAppends();
    const commit = groupCommit(database.db, events);
    const commits = new Set<Tx>();
    const results = await Promise.allSettled([note('b1', commits), note('b2', commits), note('a1', commits) /* already stored: a unique violation */, note('b3', commits)].map((w) => commit(w)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((await stored()).filter((id) => id.startsWith('b'))).toEqual(['b1', 'b2', 'b3']);
    // Only the events of committed transactions count: b1 alone, then b2 and b3 each alone after the batch failed.
    expect(calls.filter((c) => c.committed).map((c) => c.ids)).toEqual([['b1'], ['b2'], ['b3']]);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect, openTestDatabase } from '../../../test/support/databases.js';
import { openWithHeldSyncs, settled, turn } from '../../../test/support/held-syncs.js';
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
    await database.db.schema.createTable('t_counter').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('n', 'integer').execute();
    await database.db.insertInto('t_counter').values([{ id: 'x', n: 0 }, { id: 'y', n: 0 }]).execute();
  });
  afterAll(() => opened.close());

  const stored = async () => (await database.db.selectFrom('t_note').select('id').orderBy('id').execute()).map((r) => r.id as string);
  /** Inserts `id`; refuses in `check` when told to; counts the transactions it committed in. */
  const note = (id: string, commits: Set<Tx>, refuse = false): CheckedWrite<void, string> => ({
    lockOrder: 'notes',
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

  it('flush runs once per transaction, after its writes, with what they returned', async () => {
    const { events } = recordedAppends();
    const flushed: Array<{ results: string[]; seen: string[] }> = [];
    const commit = groupCommit<string>(database.db, events, {
      flush: async (tx, results) => void flushed.push({ results, seen: (await tx.selectFrom('t_note').select('id').where('id', 'like', 'c%').orderBy('id').execute()).map((r) => r.id as string) }),
    });
    const commits = new Set<Tx>();
    await Promise.all([note('c0', commits), note('c1', commits), note('c2', commits), note('c3', commits)].map((w) => commit(w)));
    // c0 runs alone; the others share the next transaction.
    expect(flushed).toEqual([
      { results: ['c0'], seen: ['c0'] },
      { results: ['c1', 'c2', 'c3'], seen: ['c0', 'c1', 'c2', 'c3'] },
    ]);
    // A batch that fails (a1 is stored already) runs its writes again alone, and flushes each.
    flushed.length = 0;
    await Promise.allSettled([note('c4', commits), note('c5', commits), note('c6', commits, true), note('a1', commits), note('c7', commits)].map((w) => commit(w)));
    expect(flushed.map((f) => f.results)).toEqual([['c4'], ['c5'], ['c7']]);
  });

  it('the batch read runs once per transaction, before any check, with the queries in batch order; each check gets its own answer', async () => {
    const { events } = recordedAppends();
    const reads: string[][] = [];
    const commit = groupCommit<string, string, string>(database.db, events, {
      read: async (tx, queries) => {
        reads.push(queries);
        return queries.map((q) => `answer to ${q}`);
      },
    });
    const commits = new Set<Tx>();
    const answered: Record<string, string | undefined> = {};
    const asking = (write: CheckedWrite<void, string>, id: string): CheckedWrite<void, string, string, string> => ({
      ...write,
      query: id,
      check: async (_tx, answer) => void (answered[id] = answer),
    });
    await Promise.all(['d0', 'd1', 'd2', 'd3'].map((id) => commit(asking(note(id, commits), id))));
    // d0 runs alone; the others share the next transaction and its one read.
    expect(reads).toEqual([['d0'], ['d1', 'd2', 'd3']]);
    expect(answered).toEqual({ d0: 'answer to d0', d1: 'answer to d1', d2: 'answer to d2', d3: 'answer to d3' });
    expect(await stored()).toEqual(expect.arrayContaining(['d0', 'd1', 'd2', 'd3']));
  });

  /** Counts row `row` up; then, if given, waits for `after`. Its lock order is the row. */
  const bump = (label: string, row: string, applied: string[], after?: () => Promise<void>): CheckedWrite<void, string> => ({
    lockOrder: row,
    async check() {},
    async apply(tx) {
      await tx.updateTable('t_counter').set((eb) => ({ n: eb('n', '+', 1) })).where('id', '=', row).execute();
      applied.push(label);
      await after?.();
      return label;
    },
  });

  it('a batch applies its writes in lock order, those with the same lock order in the order they came', async () => {
    const commit = groupCommit(database.db, recordedAppends().events);
    const applied: string[] = [];
    // The first runs alone; the others share the next batch.
    await Promise.all(['y0', 'y1', 'x1', 'y2', 'x2'].map((label) => commit(bump(label, label[0]!, applied))));
    expect(applied).toEqual(['y0', 'x1', 'x2', 'y1', 'y2']);
  });

  it.runIf(dialect === 'postgres')('batches run side by side, and two that lock the same rows take them in one order (no deadlock)', async () => {
    const commit = groupCommit(database.db, recordedAppends().events, { maxBatch: 2, concurrency: 2 });
    // Two gates hold both slots, so that the four writes after them queue, then form two batches that start together.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let gated = 0;
    let twoGated!: () => void;
    const bothHeld = new Promise<void>((resolve) => (twoGated = resolve));
    const gates = [0, 1].map(() =>
      commit({
        lockOrder: 'gate',
        check: async () => {},
        apply: async () => {
          if (++gated === 2) twoGated();
          await gate;
        },
      }),
    );
    // The second gate's batch started while the first's transaction was open.
    expect(await Promise.race([bothHeld.then(() => true), new Promise((resolve) => setTimeout(resolve, 2000, false))])).toBe(true);
    // Each write, having locked its row, waits (at most 300 ms) until another batch has locked one too.
    // Applied in the order they came, the batches [y1, x1] and [x2, y2] would each hold one row and wait
    // for the other's: a deadlock, which fails a batch, whose writes then run again alone.
    let locked = 0;
    let twoLocked!: () => void;
    const two = new Promise<void>((resolve) => (twoLocked = resolve));
    const waitForAnother = async () => {
      if (++locked === 2) twoLocked();
      await Promise.race([two, new Promise((resolve) => setTimeout(resolve, 300))]);
    };
    const applied: string[] = [];
    const writes = [bump('y1', 'y', applied, waitForAnother), bump('x1', 'x', applied, waitForAnother), bump('x2', 'x', applied, waitForAnother), bump('y2', 'y', applied, waitForAnother)].map((w) => commit(w));
    open();
    await Promise.all(gates);
    expect(await Promise.all(writes)).toEqual(['y1', 'x1', 'x2', 'y2']);
    // Each write applied once: both batches committed whole.
    expect(applied.sort()).toEqual(['x1', 'x2', 'y1', 'y2']);
  });
});

describe('group commit on SQLite with SQLITE_SYNCHRONOUS=FULL', () => {
  it('a second batch runs and commits while the first waits for its disk sync (as chat runs two), seeing what the first wrote', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-group-commit-'));
    const file = path.join(dir, 'chat.db');
    const { syncs, db, close } = openWithHeldSyncs(file);
    let observer: SqliteDatabase.Database | undefined;
    try {
      const created = db.schema.createTable('t_note').addColumn('id', 'text', (c) => c.primaryKey()).execute();
      await syncs.release();
      await created;
      const reader = (observer = new SqliteDatabase(file, { readonly: true }));
      const committed = () => (reader.prepare('select id from t_note order by id').all() as Array<{ id: string }>).map((r) => r.id);

      const seen: string[][] = [];
      const commit = groupCommit<string>(db as never, recordedAppends().events, {
        concurrency: 2,
        flush: async (tx, results) => void seen.push([...results, ...(await tx.selectFrom('t_note').select('id').orderBy('id').execute()).map((r) => `saw ${r.id as string}`)]),
      });
      const write = (id: string): CheckedWrite<void, string> => ({
        lockOrder: id,
        async check() {},
        apply: async (tx) => (await tx.insertInto('t_note').values({ id }).execute(), id),
      });
      const first = commit(write('n1'));
      await syncs.begun();
      const second = commit(write('n2'));
      await turn();
      // The first batch's sync is held: neither is acknowledged, yet the second batch has committed.
      expect(committed()).toEqual(['n1', 'n2']);
      expect(await settled(first, second)).toEqual([false, false]);
      expect(seen).toEqual([['n1', 'saw n1'], ['n2', 'saw n1', 'saw n2']]);
      await syncs.release();
      expect(await settled(first, second)).toEqual([true, false]);
      await syncs.release();
      expect(await Promise.all([first, second])).toEqual(['n1', 'n2']);
    } finally {
      observer?.close();
      await close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

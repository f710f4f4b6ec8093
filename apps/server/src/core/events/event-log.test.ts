import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestDatabase, describeEachDialect } from '../../../test/support/databases.js';
import { systemClock, type Clock } from '../clock.js';
import { createDatabase, type Database } from '../db/database.js';
import { withTransaction } from '../db/transaction.js';
import { createEventLog } from './event-log.js';
import type { EventLog, StoredEvent } from './types.js';

const logger = pino({ level: 'silent' });

/** Resolves once `condition` holds, polling; fails after `ms`. Never a fixed sleep. */
async function until(condition: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeEachDialect('event log', (dialect) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: Database;
  let log: EventLog;
  const make = (db: Database, clock: Clock = systemClock) => createEventLog({ database: db, clock, logger, pollMs: 50, retentionDays: 30 });

  beforeAll(async () => {
    opened = await openTestDatabase(dialect);
    database = opened.database;
    log = make(database);
    await log.start();
  });
  afterAll(async () => {
    await log.stop();
    await opened.close();
  });

  const append = (type: string, scopes: string[], payload: unknown = {}) =>
    withTransaction(database.db, (tx) => log.append(tx, { type, scopes, payload }));

  it('an event appended in a transaction that rolls back is neither stored nor dispatched', async () => {
    const seen: StoredEvent[] = [];
    const unsubscribe = log.subscribe({ name: 'test', types: ['test.rollback.*'], handle: (e) => void seen.push(e) });
    const before = await log.head();
    await expect(
      withTransaction(database.db, async (tx) => {
        await log.append(tx, { type: 'test.rollback.happened', scopes: ['user:a'], payload: {} });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await append('test.rollback.marker', ['user:a']);
    await until(() => seen.length === 1);
    expect(seen.map((e) => e.type)).toEqual(['test.rollback.marker']);
    expect((await log.readSince(before)).map((e) => e.type)).toEqual(['test.rollback.marker']);
    unsubscribe();
  });

  it('reads by scope, in order', async () => {
    const before = await log.head();
    await append('test.scope.one', ['user:x', 'course:c1']);
    await append('test.scope.two', ['user:y']);
    await append('test.scope.three', ['course:c1']);
    expect((await log.readSince(before, { scopes: ['course:c1'] })).map((e) => e.type)).toEqual(['test.scope.one', 'test.scope.three']);
    expect((await log.readSince(before, { scopes: ['user:y', 'user:x'] })).map((e) => e.type)).toEqual(['test.scope.one', 'test.scope.two']);
    expect(await log.readSince(before, { scopes: [] })).toEqual([]);
  });

  it('rejects malformed types and scopes', async () => {
    await expect(append('NoDots', ['user:a'])).rejects.toThrow(/module\.entity\.verb/);
    await expect(append('test.bad.scope', [])).rejects.toThrow(/needs scopes/);
    await expect(append('test.bad.scope', ['user:a b'])).rejects.toThrow(/needs scopes/);
  });

  it('a throwing subscriber does not stop delivery to the others', async () => {
    const seen: number[] = [];
    const offBad = log.subscribe({ name: 'bad', types: ['test.throw.*'], handle: () => { throw new Error('boom'); } });
    const offGood = log.subscribe({ name: 'good', types: ['test.throw.*'], handle: (e) => void seen.push(e.seq) });
    const a = await append('test.throw.first', ['user:a']);
    const b = await append('test.throw.second', ['user:a']);
    await until(() => seen.length === 2);
    expect(seen).toEqual([a.seq, b.seq]);
    offBad();
    offGood();
  });

  it('many concurrent writers: a tailing reader and another node see every committed event once, in order', async () => {
    const WRITERS = 20;
    const TRANSACTIONS = 25;
    const otherNode = createDatabase(opened.testDb.config);
    const remote = make(otherNode);
    await remote.start();
    const delivered: number[] = [];
    remote.subscribe({ name: 'remote', types: ['test.concurrent.*'], handle: (e) => void delivered.push(e.seq) });

    const committed = new Set<number>();
    // By payload, not seq: SQLite may hand a rolled-back event's seq to a later event.
    const rolledBack = new Set<string>();
    const start = await log.head();
    let writing = true;

    const writer = async (w: number) => {
      for (let t = 0; t < TRANSACTIONS; t++) {
        const abort = (w + t) % 7 === 0;
        const seqs: number[] = [];
        try {
          await withTransaction(database.db, async (tx) => {
            for (let k = 0; k <= (w + t) % 3; k++) seqs.push((await log.append(tx, { type: 'test.concurrent.write', scopes: [`user:w${w}`], payload: { w, t, k } })).seq);
            // Hold the transaction open so commits interleave with other writers and the reader.
            if (dialect === 'postgres') await pause(Math.floor(Math.random() * 4));
            if (abort) throw new Error('deliberate rollback');
          });
          seqs.forEach((s) => committed.add(s));
        } catch (err) {
          if ((err as Error).message !== 'deliberate rollback') throw err;
          seqs.forEach((_, k) => rolledBack.add(`${w}:${t}:${k}`));
        }
      }
    };

    const read: number[] = [];
    const readKeys: string[] = [];
    const reader = (async () => {
      let cursor = start;
      for (;;) {
        const wasWriting = writing;
        const events = await log.readSince(cursor);
        for (const e of events) {
          if (e.type !== 'test.concurrent.write') continue;
          const { w, t, k } = e.payload as { w: number; t: number; k: number };
          read.push(e.seq);
          readKeys.push(`${w}:${t}:${k}`);
        }
        const last = events.at(-1);
        if (last) cursor = last.seq;
        if (!wasWriting && events.length === 0) return;
        await pause(1);
      }
    })();

    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    writing = false;
    await reader;

    const expected = [...committed].sort((x, y) => x - y);
    expect(committed.size).toBeGreaterThan(WRITERS * TRANSACTIONS);
    expect(read).toEqual(expected); // every committed event, once, in increasing order
    expect(rolledBack.size).toBeGreaterThan(0);
    expect(readKeys.filter((key) => rolledBack.has(key))).toEqual([]);

    await until(() => delivered.length >= expected.length);
    expect(delivered).toEqual(expected);
    await remote.stop();
    await otherNode.close();
  }, 120_000);

  it('prunes events past retention, and the oldest seq moves', async () => {
    const later: Clock = { now: () => new Date(Date.now() + 31 * 86_400_000) };
    const before = await log.oldestSeq();
    expect(before).not.toBeNull();
    const fresh = await withTransaction(database.db, (tx) => make(database, later).append(tx, { type: 'test.prune.kept', scopes: ['user:a'], payload: {} }));
    const pruned = await make(database, later).prune();
    expect(pruned).toBeGreaterThan(0);
    expect(await log.oldestSeq()).toBe(fresh.seq);
    expect((await log.readSince(0)).map((e) => e.seq)).toEqual([fresh.seq]);
  });
});

import type { FastifyBaseLogger } from 'fastify';
import { SelectQueryNode, type KyselyPlugin } from 'kysely';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { describeEachDialect, openTestDatabase, type DialectName, type TestDatabase } from '../../../test/support/databases.js';
import { until } from '../../../test/support/until.js';
import { systemClock, type Clock } from '../clock.js';
import { createDatabase, type Database } from '../db/database.js';
import { withTransaction } from '../db/transaction.js';
import { createEventLog, type EventLogOptions } from './event-log.js';
import type { EventLog, StoredEvent } from './types.js';

const silent = pino({ level: 'silent' });

/** Subscribes a collector and returns what it receives, in arrival order. */
function collect(log: EventLog, name = 'collector', types?: string[]): StoredEvent[] {
  const received: StoredEvent[] = [];
  log.subscribe({ name, types, handle: (event) => void received.push(event) });
  return received;
}

interface LogLine {
  msg: string;
  seq?: number;
  subscriber?: string;
}

function capturingLogger(): { logger: FastifyBaseLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

const ids = (events: StoredEvent[]) => events.map((e) => e.id);

/**
 * The same database, deaf to other nodes (no LISTEN), counting the SELECTs run through its `db`:
 * once started, a log on it runs none but its dispatcher's pages.
 */
function countingReads(database: Database): { database: Database; reads: () => number } {
  let reads = 0;
  const counter: KyselyPlugin = {
    transformQuery: ({ node }) => {
      if (SelectQueryNode.is(node)) reads++;
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  return { database: { ...database, db: database.db.withPlugin(counter), listen: undefined }, reads: () => reads };
}

const DAY_MS = 86_400_000;

describeEachDialect('event log', (dialect: DialectName) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A fresh migrated database and an event log on it, both closed after the test. */
  async function freshLog(options: Partial<EventLogOptions> = {}) {
    const opened = await openTestDatabase(dialect);
    cleanups.push(() => opened.close());
    const log = createEventLog({ database: opened.database, clock: systemClock, logger: silent, pollMs: 20, retentionDays: 30, ...options });
    cleanups.push(() => log.stop());
    const { db } = opened.database;
    const append = (type: string, scopes: string[], payload: unknown = {}) => withTransaction(db, (tx) => log.append(tx, { type, scopes, payload }));
    return { database: opened.database, testDb: opened.testDb, log, append };
  }

  /**
   * Another node on the same database, with connections of its own. On PostgreSQL its poll is far
   * slower than any test, so only NOTIFY can wake it in time; SQLite has no NOTIFY and polls.
   */
  async function otherNode(testDb: TestDatabase): Promise<{ log: EventLog; database: Database }> {
    const database = createDatabase(testDb.config);
    cleanups.push(() => database.close());
    const pollMs = dialect === 'postgres' ? 600_000 : 20;
    const log = createEventLog({ database, clock: systemClock, logger: silent, pollMs, retentionDays: 30 });
    cleanups.push(() => log.stop());
    return { log, database };
  }

  const countScopeRows = async (database: Database) =>
    Number((await database.db.selectFrom('core_event_scopes').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('an append in a transaction that rolls back stores nothing and dispatches nothing', async () => {
    const afterCommit: StoredEvent[] = [];
    const { database, log, append } = await freshLog({ onAppend: (event) => void afterCommit.push(event) });
    const received = collect(log);
    await log.start();

    const rollback = withTransaction(database.db, async (tx) => {
      await log.append(tx, { type: 'test.rollback.discarded', scopes: ['user:a'], payload: {} });
      throw new Error('changed my mind');
    });
    await expect(rollback).rejects.toThrow('changed my mind');
    // Delivery is in seq order: had the discarded event been dispatched, it would arrive before this one.
    const marker = await append('test.rollback.marker', ['user:a']);
    await until(() => received.length > 0, { what: 'the marker to be dispatched' });

    expect(ids(received)).toEqual([marker.id]);
    expect(ids(await log.readSince(0))).toEqual([marker.id]);
    expect(ids(afterCommit)).toEqual([marker.id]);
    expect(await countScopeRows(database)).toBe(1);
  });

  it('readSince with scopes returns only the events carrying one of them, each once, in seq order', async () => {
    const { log, append } = await freshLog();
    const one = await append('test.scope.one', ['user:x', 'course:c1']);
    const two = await append('test.scope.two', ['user:y']);
    const three = await append('test.scope.three', ['course:c1']);
    const four = await append('test.scope.four', ['user:x']);

    expect(ids(await log.readSince(0, { scopes: ['course:c1'] }))).toEqual([one.id, three.id]);
    expect(ids(await log.readSince(0, { scopes: ['user:x', 'course:c1'] }))).toEqual([one.id, three.id, four.id]);
    expect(ids(await log.readSince(one.seq, { scopes: ['user:x'] }))).toEqual([four.id]);
    expect(ids(await log.readSince(0, { scopes: ['user:x'], limit: 1 }))).toEqual([one.id]);
    expect(await log.readSince(0, { scopes: [] })).toEqual([]);
    expect(ids(await log.readSince(0))).toEqual([one.id, two.id, three.id, four.id]);
  });

  it('an event reads back exactly as append returned it', async () => {
    const { database, log } = await freshLog();
    const input = { type: 'test.shape.checked', scopes: ['user:a', 'user:a', 'system'], payload: { n: 1, at: new Date(0) }, actorId: 'usr_1' };
    const stored = await withTransaction(database.db, (tx) => log.append(tx, input));

    expect(stored).toMatchObject({ type: 'test.shape.checked', scopes: ['user:a', 'system'], payload: { n: 1, at: '1970-01-01T00:00:00.000Z' }, actorId: 'usr_1' });
    expect(stored.id).toMatch(/^evt_/);
    expect(await log.readSince(0)).toEqual([stored]);
  });

  it('appendMany stores many events in one go, in the order given, each with its own scopes, dispatched after commit', async () => {
    const afterCommit: StoredEvent[] = [];
    const { database, log } = await freshLog({ onAppend: (event) => void afterCommit.push(event) });
    const received = collect(log);
    await log.start();
    // More than one INSERT's worth (500 rows), to cross a statement boundary.
    const inputs = Array.from({ length: 1203 }, (_, n) => ({ type: 'test.batch.item', scopes: [`user:u${n}`, 'course:c'], payload: { n }, actorId: n % 2 ? 'usr_1' : null }));
    const stored = await withTransaction(database.db, (tx) => log.appendMany(tx, inputs));

    expect(stored.map((e) => (e.payload as { n: number }).n)).toEqual(inputs.map((_, n) => n));
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_, n) => stored[0]!.seq + n));
    expect(stored[7]).toMatchObject({ type: 'test.batch.item', scopes: ['user:u7', 'course:c'], actorId: 'usr_1' });
    await until(() => received.length === inputs.length, { what: 'every event to be dispatched' });
    expect(ids(received)).toEqual(ids(stored));
    expect(ids(afterCommit)).toEqual(ids(stored));
    expect(ids(await log.readSince(0, { scopes: ['user:u1202'] }))).toEqual([stored[1202]!.id]);
    expect(await countScopeRows(database)).toBe(2 * inputs.length);
    expect(await withTransaction(database.db, (tx) => log.appendMany(tx, []))).toEqual([]);
  });

  it('rejects malformed types and scopes before writing anything', async () => {
    const { log, append } = await freshLog();
    await expect(append('NoDots', ['user:a'])).rejects.toThrow(/module\.entity\.verb/);
    await expect(append('test.bad.scope', [])).rejects.toThrow(/needs scopes/);
    await expect(append('test.bad.scope', ['user:a b'])).rejects.toThrow(/needs scopes/);
    expect(await log.head()).toBe(0);
  });

  it('many concurrent writers: a tailing reader and subscribers on two nodes see every committed event exactly once, in seq order', async () => {
    const WRITERS = 20;
    const TRANSACTIONS = 25;
    const { database, testDb, log: nodeA } = await freshLog();
    const { log: nodeB } = await otherNode(testDb);
    const onA = collect(nodeA, 'node-a');
    const onB = collect(nodeB, 'node-b');
    await Promise.all([nodeA.start(), nodeB.start()]);

    const committed: StoredEvent[] = [];
    // Rolled-back events are known by payload: SQLite may give a rolled-back seq to a later event.
    const rolledBack = new Set<string>();
    const keyOf = (event: StoredEvent) => JSON.stringify(event.payload);

    async function writer(w: number): Promise<void> {
      for (let t = 0; t < TRANSACTIONS; t++) {
        const appended: StoredEvent[] = [];
        const abort = (w + t) % 7 === 0;
        try {
          await withTransaction(database.db, async (tx) => {
            for (let k = 0; k <= (w * 5 + t) % 3; k++) {
              appended.push(await nodeA.append(tx, { type: 'test.concurrent.write', scopes: [`user:w${w}`], payload: { w, t, k } }));
            }
            // Stay open a moment so that commits interleave with other writers and with the reader.
            if (dialect === 'postgres') await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
            if (abort) throw new Error('deliberate rollback');
          });
          committed.push(...appended);
        } catch (err) {
          if ((err as Error).message !== 'deliberate rollback') throw err;
          for (const event of appended) rolledBack.add(keyOf(event));
        }
      }
    }

    let writing = true;
    let pagesReadWhileWriting = 0;
    const tailed: StoredEvent[] = [];
    async function tailingReader(): Promise<void> {
      let cursor = 0;
      for (;;) {
        const wasWriting = writing; // read before the query: a final empty page after all commits ends it
        const page = await nodeA.readSince(cursor, { limit: 50 });
        tailed.push(...page);
        cursor = page.at(-1)?.seq ?? cursor;
        if (wasWriting && page.length) pagesReadWhileWriting++;
        if (!wasWriting && !page.length) return;
      }
    }

    const reading = tailingReader();
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    writing = false;
    await reading;

    const expected = ids([...committed].sort((a, b) => a.seq - b.seq));
    expect(rolledBack.size).toBeGreaterThan(0);
    expect(expected.length).toBeGreaterThan(WRITERS * TRANSACTIONS);
    expect(pagesReadWhileWriting).toBeGreaterThan(1);
    expect(ids(tailed)).toEqual(expected);
    expect(tailed.every((event, i) => i === 0 || event.seq > tailed[i - 1]!.seq)).toBe(true);
    expect(tailed.filter((event) => rolledBack.has(keyOf(event)))).toEqual([]);

    // In-order delivery: once both nodes have the sentinel, nothing committed before it is still on its way.
    const sentinel = await withTransaction(database.db, (tx) => nodeA.append(tx, { type: 'test.concurrent.done', scopes: ['system'], payload: {} }));
    await until(() => onA.at(-1)?.id === sentinel.id && onB.at(-1)?.id === sentinel.id, { what: 'both nodes to receive the sentinel' });
    expect(ids(onA)).toEqual([...expected, sentinel.id]);
    expect(ids(onB)).toEqual([...expected, sentinel.id]);
  }, 120_000);

  describe('events this node committed are delivered from memory', () => {
    /** A log that only its own commits wake (no poll in time, no NOTIFY), counting its reads, and a collector on it. */
    async function quietLog() {
      const { database, testDb } = await freshLog();
      const counted = countingReads(database);
      const log = createEventLog({ database: counted.database, clock: systemClock, logger: silent, pollMs: 600_000, retentionDays: 30 });
      cleanups.push(() => log.stop());
      const received = collect(log);
      await log.start();
      const append = (type: string, payload: unknown = {}) => withTransaction(database.db, (tx) => log.append(tx, { type, scopes: ['user:a'], payload }));
      return { database, testDb, log, received, reads: counted.reads, append };
    }

    it('without reading them back from the log', async () => {
      const { database, log, received, reads, append } = await quietLog();
      const one = await append('test.memory.one');
      const many = await withTransaction(database.db, (tx) =>
        log.appendMany(tx, [1, 2, 3].map((n) => ({ type: 'test.memory.many', scopes: ['user:a'], payload: { n } }))),
      );
      await until(() => received.length === 4, { what: 'all four events' });

      expect(reads()).toBe(0);
      expect(ids(received)).toEqual(ids([one, ...many]));
      expect(received).toEqual(await log.readSince(0));
    });

    it('an event another node wrote in between is read from the log, and everything arrives once, in seq order', async () => {
      const { testDb, received, reads, append } = await quietLog();
      const nodeB = await otherNode(testDb);
      const first = await append('test.memory.first');
      await until(() => received.length === 1, { what: 'the first event' });
      const fromB = await withTransaction(nodeB.database.db, (tx) => nodeB.log.append(tx, { type: 'test.memory.other', scopes: ['user:a'], payload: {} }));
      const last = await append('test.memory.last');
      await until(() => received.length === 3, { what: 'all three events' });
      const third = await append('test.memory.after');
      await until(() => received.length === 4, { what: 'the event after the gap' });

      expect(ids(received)).toEqual([first.id, fromB.id, last.id, third.id]);
      expect(reads()).toBe(1);
    });

    it('an append rolled back in between leaves no phantom event', async () => {
      const { database, log, received, append } = await quietLog();
      const first = await append('test.memory.first');
      const rollback = withTransaction(database.db, async (tx) => {
        await log.append(tx, { type: 'test.memory.discarded', scopes: ['user:a'], payload: {} });
        throw new Error('changed my mind');
      });
      await expect(rollback).rejects.toThrow('changed my mind');
      const last = await append('test.memory.last');
      await until(() => received.length === 2, { what: 'both committed events' });

      expect(ids(received)).toEqual([first.id, last.id]);
      expect(received).toEqual(await log.readSince(0));
    });

    it('a subscriber too slow for memory to hold what commits meanwhile gets it all from the log, once, in order', async () => {
      const { database, log, reads, append } = await quietLog();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const slow: StoredEvent[] = [];
      log.subscribe({ name: 'slow', handle: async (event) => void slow.push(await gate.then(() => event)) });
      const first = await append('test.memory.first');
      // Two batches the dispatcher would hold while the first event is stuck: more than it keeps (ten pages of 500).
      const batch = () =>
        withTransaction(database.db, (tx) => log.appendMany(tx, Array.from({ length: 3000 }, (_, n) => ({ type: 'test.memory.bulk', scopes: ['user:a'], payload: { n } }))));
      const batches = [await batch(), await batch()];
      release();
      await until(() => slow.length === 6001, { what: 'every event on the slow subscriber' });

      expect(ids(slow)).toEqual(ids([first, ...batches.flat()]));
      expect(reads()).toBeGreaterThan(0);
    }, 60_000);
  });

  it('a node that starts receives what commits after it started, not history', async () => {
    const { log, append } = await freshLog();
    await append('test.history.before', ['user:a']);
    const received = collect(log);
    await log.start();
    const after = await append('test.history.after', ['user:a']);
    await until(() => received.length > 0, { what: 'the new event' });
    expect(ids(received)).toEqual([after.id]);
  });

  it('a subscriber receives only the types it asks for', async () => {
    const { log, append } = await freshLog();
    const chat = collect(log, 'chat-only', ['chat.*']);
    const exact = collect(log, 'one-type', ['learning.course.published']);
    await log.start();
    const message = await append('chat.message.created', ['conversation:c1']);
    await append('learning.lesson.created', ['course:c1']);
    const published = await append('learning.course.published', ['course:c1']);
    await until(() => chat.length > 0 && exact.length > 0, { what: 'both subscribers' });
    expect(ids(chat)).toEqual([message.id]);
    expect(ids(exact)).toEqual([published.id]);
  });

  it('a subscriber that throws is logged with the seq and its name, and the others still receive every event', async () => {
    const { logger, lines } = capturingLogger();
    const { log, append } = await freshLog({ logger });
    let failures = 0;
    log.subscribe({
      name: 'always-fails',
      handle: () => {
        failures++;
        throw new Error('boom');
      },
    });
    const healthy = collect(log, 'healthy');
    await log.start();
    const first = await append('test.throw.first', ['user:a']);
    const second = await append('test.throw.second', ['user:a']);
    await until(() => healthy.length === 2, { what: 'both events on the healthy subscriber' });

    expect(ids(healthy)).toEqual([first.id, second.id]);
    expect(failures).toBe(2);
    const logged = lines.filter((line) => line.msg === 'event subscriber failed').map(({ seq, subscriber }) => ({ seq, subscriber }));
    expect(logged).toEqual([
      { seq: first.seq, subscriber: 'always-fails' },
      { seq: second.seq, subscriber: 'always-fails' },
    ]);
  });

  it('stop() waits for the event being delivered and then delivers nothing more', async () => {
    const { log, append } = await freshLog();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    let finished = false;
    log.subscribe({
      name: 'slow',
      handle: async () => {
        calls++;
        await gate;
        finished = true;
      },
    });
    await log.start();
    await append('test.stop.first', ['user:a']);
    await append('test.stop.second', ['user:a']);
    await until(() => calls === 1, { what: 'the first delivery to begin' });

    let stopped = false;
    const stopping = log.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    expect(calls).toBe(1);
  });

  describe('retention', () => {
    /** A clock the test moves by hand. */
    function manualClock(start: string): Clock & { set(iso: string): void } {
      let now = new Date(start);
      return { now: () => now, set: (iso) => (now = new Date(iso)) };
    }

    it('prune deletes events past retention with their scope rows, in batches, and oldestSeq moves', async () => {
      const clock = manualClock('2026-01-01T00:00:00Z');
      const { database, log } = await freshLog({ clock, retentionDays: 30 });
      // More than one prune batch (1000) of old events.
      const old = await withTransaction(database.db, async (tx) => {
        const appended: StoredEvent[] = [];
        for (let i = 0; i < 1005; i++) appended.push(await log.append(tx, { type: 'test.retention.old', scopes: ['user:a', 'course:c'], payload: { i } }));
        return appended;
      });
      clock.set('2026-01-20T00:00:00Z');
      const recent = await withTransaction(database.db, (tx) => log.append(tx, { type: 'test.retention.recent', scopes: ['user:a'], payload: {} }));
      clock.set('2026-02-15T00:00:00Z'); // 45 days after the old ones, 26 after the recent one
      expect(await log.oldestSeq()).toBe(old[0]!.seq);

      expect(await log.prune()).toBe(old.length);
      expect(await log.oldestSeq()).toBe(recent.seq);
      expect(ids(await log.readSince(0))).toEqual([recent.id]);
      expect(await countScopeRows(database)).toBe(1);
      expect(await log.prune()).toBe(0);
    }, 60_000);

    it('prune keeps the newest event, so head and oldestSeq still describe the log after a quiet spell', async () => {
      const clock = manualClock('2026-01-01T00:00:00Z');
      const { log, append } = await freshLog({ clock, retentionDays: 30 });
      await append('test.retention.first', ['user:a']);
      const newest = await append('test.retention.second', ['user:a']);
      clock.set(new Date(Date.parse('2026-01-01T00:00:00Z') + 365 * DAY_MS).toISOString());

      expect(await log.prune()).toBe(1);
      expect(await log.oldestSeq()).toBe(newest.seq);
      expect(await log.head()).toBe(newest.seq);
    });
  });
});

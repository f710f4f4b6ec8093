import type { FastifyBaseLogger } from 'fastify';
import { isoNow, type Clock } from '../clock.js';
import type { Database, Tx } from '../db/database.js';
import { afterCommit } from '../db/transaction.js';
import { newId } from '../ids.js';
import type { EventInput, EventLog, EventSubscriber, ReadOptions, StoredEvent } from './types.js';

/** PostgreSQL channel on which a commit that appended events wakes every node's dispatcher. */
export const EVENTS_CHANNEL = 'lyceum_events';

const TYPE = /^[a-z][a-z0-9]*(\.[a-z][a-zA-Z0-9]*)+$/;
const SCOPE = /^[a-z]+(:[A-Za-z0-9_.-]+)?$/;
const BATCH = 500;

export interface EventLogOptions {
  database: Database;
  clock: Clock;
  logger: FastifyBaseLogger;
  /** Safety-net poll; NOTIFY and local commits normally wake the dispatcher at once. */
  pollMs: number;
  retentionDays: number;
  onAppend?: (event: StoredEvent) => void;
}

interface EventRow {
  seq: number;
  id: string;
  type: string;
  scopes: string;
  payload: string;
  actor_id: string | null;
  created_at: string;
}

const toEvent = (row: EventRow): StoredEvent => ({
  seq: Number(row.seq),
  id: row.id,
  type: row.type,
  scopes: JSON.parse(row.scopes) as string[],
  payload: JSON.parse(row.payload) as unknown,
  actorId: row.actor_id,
  createdAt: row.created_at,
});

const matches = (subscriber: EventSubscriber, type: string) =>
  !subscriber.types || subscriber.types.some((t) => (t.endsWith('*') ? type.startsWith(t.slice(0, -1)) : t === type));

/**
 * The event log: the spine every reaction hangs on. Appends share the writer's transaction; a
 * single dispatcher per node tails the log after commit and hands each event to every subscriber,
 * in seq order, exactly once per node.
 */
export function createEventLog({ database, clock, logger, pollMs, retentionDays, onAppend }: EventLogOptions): EventLog {
  const { db, dialect } = database;
  const subscribers = new Set<EventSubscriber>();
  let cursor = 0;
  let stopped = true;
  let running: Promise<void> | undefined;
  let wakeAgain = false;
  let poll: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;

  async function readSince(after: number, { scopes, limit = BATCH }: ReadOptions = {}): Promise<StoredEvent[]> {
    let query = db
      .selectFrom('core_events')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(Math.min(Math.max(limit, 1), 1000));
    if (scopes) {
      if (!scopes.length) return [];
      query = query.where('seq', 'in', db.selectFrom('core_event_scopes').select('seq').where('scope', 'in', scopes).where('seq', '>', after));
    }
    return ((await query.execute()) as EventRow[]).map(toEvent);
  }

  async function deliver(event: StoredEvent) {
    for (const subscriber of subscribers) {
      if (!matches(subscriber, event.type)) continue;
      try {
        await subscriber.handle(event);
      } catch (err) {
        logger.error({ err, seq: event.seq, type: event.type, subscriber: subscriber.name }, 'event subscriber failed');
      }
    }
  }

  async function drain() {
    do {
      wakeAgain = false;
      for (;;) {
        const events = await readSince(cursor);
        for (const event of events) {
          await deliver(event);
          cursor = event.seq;
        }
        if (events.length < BATCH || stopped) break;
      }
    } while (wakeAgain && !stopped);
  }

  /** One dispatch pass at a time; a wake-up during a pass asks for one more. */
  function wake() {
    if (stopped) return;
    if (running) {
      wakeAgain = true;
      return;
    }
    running = drain()
      .catch((err: unknown) => logger.warn({ err }, 'event dispatch failed; retrying at the next poll'))
      .finally(() => {
        running = undefined;
      });
  }

  return {
    async append<P>(tx: Tx, input: EventInput<P>): Promise<StoredEvent<P>> {
      if (!TYPE.test(input.type)) throw new Error(`Event type "${input.type}" must look like module.entity.verb`);
      const scopes = [...new Set(input.scopes)];
      if (!scopes.length || !scopes.every((s) => SCOPE.test(s))) throw new Error(`Event ${input.type} needs scopes like user:<id>, got ${JSON.stringify(input.scopes)}`);
      await dialect.lockEventAppend(tx);
      const row = {
        id: newId('evt'),
        type: input.type,
        scopes: JSON.stringify(scopes),
        payload: JSON.stringify(input.payload ?? null),
        actor_id: input.actorId ?? null,
        created_at: isoNow(clock),
      };
      const { seq } = (await tx.insertInto('core_events').values(row).returning('seq').executeTakeFirstOrThrow()) as { seq: number };
      await tx
        .insertInto('core_event_scopes')
        .values(scopes.map((scope) => ({ scope, seq })))
        .execute();
      await dialect.notifyOnCommit(tx, EVENTS_CHANNEL);
      const stored = toEvent({ ...row, seq }) as StoredEvent<P>;
      afterCommit(tx, () => {
        onAppend?.(stored);
        wake();
      });
      return stored;
    },

    readSince,

    async head() {
      const row = await db.selectFrom('core_events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
      return Number(row?.seq ?? 0);
    },

    async oldestSeq() {
      const row = await db.selectFrom('core_events').select((eb) => eb.fn.min('seq').as('seq')).executeTakeFirst();
      return row?.seq == null ? null : Number(row.seq);
    },

    subscribe(subscriber) {
      subscribers.add(subscriber);
      return () => void subscribers.delete(subscriber);
    },

    async prune() {
      const cutoff = new Date(clock.now().getTime() - retentionDays * 86_400_000).toISOString();
      let total = 0;
      for (;;) {
        const batch = db.selectFrom('core_events').select('seq').where('created_at', '<', cutoff).orderBy('seq').limit(5000);
        await db.deleteFrom('core_event_scopes').where('seq', 'in', batch).execute();
        const result = await db.deleteFrom('core_events').where('seq', 'in', batch).executeTakeFirst();
        const deleted = Number(result.numDeletedRows);
        total += deleted;
        if (deleted < 5000) return total;
      }
    },

    async start() {
      if (!stopped) return;
      // A (re)started node delivers what happens from now on; history is for readers with a cursor.
      cursor = await this.head();
      stopped = false;
      poll = setInterval(wake, pollMs);
      poll.unref();
      unlisten = await database.listen?.(EVENTS_CHANNEL, wake);
    },

    async stop() {
      stopped = true;
      clearInterval(poll);
      await running;
      await unlisten?.();
      unlisten = undefined;
    },
  };
}

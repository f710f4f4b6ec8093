import type { FastifyBaseLogger } from 'fastify';
import { isoNow, type Clock } from '../clock.js';
import type { Database, Tx } from '../db/database.js';
import { inCompiledParts } from '../db/parts.js';
import { compileWriteOn, compileWriteReturningOn, perCount, rowsOf, valuesOf } from '../db/prepared-read.js';
import { afterCommit, withTransaction } from '../db/transaction.js';
import { newId } from '../ids.js';
import { createDispatcher } from './dispatcher.js';
import type { EventInput, EventLog, ReadOptions, StoredEvent } from './types.js';

/** PostgreSQL channel on which a commit that appended events wakes every node's dispatcher. */
export const EVENTS_CHANNEL = 'lyceum_events';

const EVENT_TYPE = /^[a-z][a-z0-9]*(\.[a-z][a-zA-Z0-9]*)+$/;
const SCOPE = /^[a-z]+(:[A-Za-z0-9_.-]+)?$/;
const DEFAULT_LIMIT = 500;
const MAX_LIMIT = 1000;
/** Small enough that a prune batch never holds SQLite's single writer for long. */
const PRUNE_BATCH = 1000;
const DAY_MS = 86_400_000;

export interface EventLogOptions {
  database: Database;
  clock: Clock;
  logger: FastifyBaseLogger;
  /** Safety-net poll; local commits and NOTIFY normally wake the dispatcher at once. */
  pollMs: number;
  retentionDays: number;
  /** Called once per event after its transaction commits (the appended-events counter). */
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

/** `scopes`: given by an append, which holds them checked already; parsed from the row otherwise. */
const toEvent = (row: EventRow, scopes = JSON.parse(row.scopes) as string[]): StoredEvent => ({
  seq: Number(row.seq),
  id: row.id,
  type: row.type,
  scopes,
  payload: JSON.parse(row.payload) as unknown,
  actorId: row.actor_id,
  createdAt: row.created_at,
});

/** Checks the type and scopes; returns the scopes without duplicates. */
function validatedScopes(input: EventInput<unknown>): string[] {
  if (!EVENT_TYPE.test(input.type)) throw new Error(`Event type "${input.type}" must look like module.entity.verb`);
  const scopes = [...new Set(input.scopes)];
  if (!scopes.length || !scopes.every((s) => SCOPE.test(s))) {
    throw new Error(`Event ${input.type} needs scopes like user:<id>, got ${JSON.stringify(input.scopes)}`);
  }
  return scopes;
}

const clampLimit = (limit: number): number => Math.min(Math.max(Math.trunc(limit) || 1, 1), MAX_LIMIT);

type NewEventRow = Omit<EventRow, 'seq'>;
type ScopeRow = { scope: string; seq: number };
const EVENT_COLUMNS = ['id', 'type', 'scopes', 'payload', 'actor_id', 'created_at'] as const satisfies ReadonlyArray<keyof NewEventRow>;
const SCOPE_COLUMNS = ['scope', 'seq'] as const satisfies ReadonlyArray<keyof ScopeRow>;

/** The append's two inserts, compiled once per number of rows: every write of every module appends. */
function appendStatements(db: Database['db']) {
  const events = perCount((count) =>
    compileWriteReturningOn(db, (q, ...values: unknown[]) => q.insertInto('core_events').values(rowsOf<NewEventRow>(EVENT_COLUMNS, values)).returning(['id', 'seq']), count * EVENT_COLUMNS.length),
  );
  const scopes = perCount((count) => compileWriteOn(db, (q, ...values: unknown[]) => q.insertInto('core_event_scopes').values(rowsOf<ScopeRow>(SCOPE_COLUMNS, values)), count * SCOPE_COLUMNS.length));
  return {
    insertEvents: (tx: Tx, rows: NewEventRow[]) => events(rows.length)(tx, ...valuesOf(EVENT_COLUMNS, rows)) as Promise<Array<{ id: string; seq: number }>>,
    insertScopes: (tx: Tx, rows: ScopeRow[]) => scopes(rows.length)(tx, ...valuesOf(SCOPE_COLUMNS, rows)),
  };
}

/**
 * The event log, the spine every reaction hangs on. Appends share the writer's transaction and
 * serialise until commit, so seq order is commit order; one dispatcher per instance tails the log
 * after commit and hands each event to every subscriber, in seq order, exactly once per node.
 */
export function createEventLog({ database, clock, logger, pollMs, retentionDays, onAppend }: EventLogOptions): EventLog {
  const { db, dialect } = database;
  const listen = database.listen;
  const dispatcher = createDispatcher({
    readPage: (cursor) => readSince(cursor, { limit: DEFAULT_LIMIT }),
    pageSize: DEFAULT_LIMIT,
    logger,
    pollMs,
    listen: listen && ((onNotify) => listen(EVENTS_CHANNEL, onNotify)),
  });

  const { insertEvents, insertScopes } = appendStatements(db);

  async function append<P>(tx: Tx, input: EventInput<P>): Promise<StoredEvent<P>> {
    return (await appendMany(tx, [input]))[0]!;
  }

  async function appendMany<P>(tx: Tx, inputs: ReadonlyArray<EventInput<P>>): Promise<Array<StoredEvent<P>>> {
    if (!inputs.length) return [];
    const scopesOf = inputs.map(validatedScopes);
    let stored: Array<StoredEvent<P>> | undefined;
    // Registered before any SQL: a transaction not opened by withTransaction fails here, lock-free.
    // This node's dispatcher takes what it committed from memory instead of reading it back (see
    // dispatcher.offer). That is sound on both databases because seqs are taken under the append
    // lock, held until commit (SQLite: the one writer; PostgreSQL: lockEventAppend), so once this
    // commit returns, every lower seq has committed or rolled back. Whatever this node does not
    // hold (another node's or the CLI's events, a seq a rolled-back PostgreSQL append used up)
    // shows as a gap in the seqs, and the dispatcher reads the log there.
    afterCommit(tx, () => (stored ? dispatcher.offer(stored) : dispatcher.wake()));
    await dialect.lockEventAppend(tx);
    // Taken under the lock, so that created_at follows seq on any one node.
    const createdAt = isoNow(clock);
    const rows = inputs.map((input, i): NewEventRow => ({
      id: newId('evt'),
      type: input.type,
      scopes: JSON.stringify(scopesOf[i]),
      payload: JSON.stringify(input.payload ?? null),
      actor_id: input.actorId ?? null,
      created_at: createdAt,
    }));
    const seqOf = new Map<string, number>();
    for (const part of inCompiledParts(rows)) {
      for (const { id, seq } of await insertEvents(tx, part)) seqOf.set(id, Number(seq));
    }
    const scopeRows = rows.flatMap((row, i) => scopesOf[i]!.map((scope) => ({ scope, seq: seqOf.get(row.id)! })));
    for (const part of inCompiledParts(scopeRows)) await insertScopes(tx, part);
    await dialect.notifyOnCommit(tx, EVENTS_CHANNEL);
    // The payload parsed back from the stored text: the caller holds exactly what every reader will
    // see. The scopes are those checked strings already, without duplicates: stored and read back alike.
    const events = rows.map((row, i) => toEvent({ ...row, seq: seqOf.get(row.id)! }, scopesOf[i]) as StoredEvent<P>);
    if (onAppend) afterCommit(tx, () => events.forEach(onAppend));
    return (stored = events);
  }

  async function readSince(cursor: number, { scopes, limit = DEFAULT_LIMIT }: ReadOptions = {}): Promise<StoredEvent[]> {
    if (scopes?.length === 0) return [];
    let query = db.selectFrom('core_events').selectAll().where('seq', '>', cursor).orderBy('seq').limit(clampLimit(limit));
    if (scopes) {
      const scoped = db.selectFrom('core_event_scopes').select('seq').where('scope', 'in', scopes).where('seq', '>', cursor);
      query = query.where('seq', 'in', scoped);
    }
    return ((await query.execute()) as EventRow[]).map((row) => toEvent(row));
  }

  // Asked on every resume, and by caches that check they are still current on every request.
  const newestSeq = database.prepareRead((db) => db.selectFrom('core_events').select((eb) => eb.fn.max('seq').as('seq')));

  async function head(): Promise<number> {
    const [row] = await newestSeq();
    return Number(row?.seq ?? 0);
  }

  async function oldestSeq(): Promise<number | null> {
    const row = await db.selectFrom('core_events').select((eb) => eb.fn.min('seq').as('seq')).executeTakeFirst();
    return row?.seq == null ? null : Number(row.seq);
  }

  /**
   * The highest seq prune may delete. Pruning removes a prefix of the log, so that "no event at or
   * above oldestSeq is missing" stays true even when nodes' clocks disagree: it stops before the
   * first event still inside the retention period, and always keeps the newest event so that head()
   * and oldestSeq() still tell a returning client what it missed after a quiet spell.
   */
  async function pruneBoundary(): Promise<number> {
    const cutoff = new Date(clock.now().getTime() - retentionDays * DAY_MS).toISOString();
    const firstKept = await db
      .selectFrom('core_events')
      .select('seq')
      .where('created_at', '>=', cutoff)
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    return Math.min(Number(firstKept?.seq ?? Infinity), await head()) - 1;
  }

  /** Deletes the start of the log through `upTo`, scopes and events together so readers see both or neither. */
  function deleteThrough(upTo: number): Promise<number> {
    return withTransaction(db, async (tx) => {
      await tx.deleteFrom('core_event_scopes').where('seq', '<=', upTo).execute();
      const result = await tx.deleteFrom('core_events').where('seq', '<=', upTo).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  async function prune(): Promise<number> {
    const boundary = await pruneBoundary();
    let total = 0;
    for (let oldest = await oldestSeq(); oldest !== null && oldest <= boundary; oldest = await oldestSeq()) {
      total += await deleteThrough(Math.min(boundary, oldest + PRUNE_BATCH - 1));
    }
    return total;
  }

  return {
    append,
    appendMany,
    readSince,
    head,
    oldestSeq,
    subscribe: (subscriber) => dispatcher.subscribe(subscriber),
    prune,
    // A (re)started node delivers what commits from now on; history is for readers with a cursor.
    start: async () => dispatcher.start(await head()),
    stop: () => dispatcher.stop(),
  };
}

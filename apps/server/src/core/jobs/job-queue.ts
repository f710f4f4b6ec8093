import { CronExpressionParser } from 'cron-parser';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { Database, Db, Tx } from '../db/database.js';
import { afterCommit } from '../db/transaction.js';
import { newId } from '../ids.js';
import type { EnqueueOptions, JobDefinition, JobQueue, JobRecord, JobStatus, Schedule } from './types.js';

export interface JobQueueOptions {
  database: Database;
  clock: Clock;
  logger: FastifyBaseLogger;
  /** Jobs this node runs at once; 0 = enqueue only. */
  concurrency: number;
  leaseMs: number;
  pollMs: number;
}

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 3600_000;
const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const SUCCEEDED_RETENTION_MS = 7 * 86_400_000;

interface JobRow {
  id: string;
  name: string;
  payload: string;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_at: string;
  lease_until: string | null;
  locked_by: string | null;
  last_error: string | null;
  unique_key: string | null;
  created_at: string;
  updated_at: string;
}

const toRecord = (row: JobRow): JobRecord => ({
  id: row.id,
  name: row.name,
  payload: JSON.parse(row.payload) as unknown,
  status: row.status,
  attempts: Number(row.attempts),
  maxAttempts: Number(row.max_attempts),
  runAt: row.run_at,
  lastError: row.last_error,
  uniqueKey: row.unique_key,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** Exponential backoff with jitter: half the exponential delay, plus up to as much again at random. */
export function backoffDelay(attempt: number, baseMs: number, random = Math.random): number {
  const exponential = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/**
 * The durable job queue. Jobs are rows in `core_jobs`, inserted in the caller's transaction, so a
 * job exists if and only if the write that caused it committed. Workers claim due jobs atomically
 * (`FOR UPDATE SKIP LOCKED` on PostgreSQL), hold a lease they renew while running, and record
 * success, a retry with backoff, or death.
 */
export function createJobQueue({ database, clock, logger, concurrency, leaseMs, pollMs }: JobQueueOptions): JobQueue {
  const { db, dialect } = database;
  const nodeId = newId('node');
  const definitions = new Map<string, JobDefinition>();
  const schedules = new Map<string, { schedule: Schedule; lastTick?: string }>();
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let started = false;
  let stopping = false;
  let claiming = false;
  let claimAgain = false;
  let timer: NodeJS.Timeout | undefined;

  const now = () => clock.now();
  const iso = (ms = 0) => new Date(now().getTime() + ms).toISOString();

  async function claim(limit: number): Promise<JobRow[]> {
    const current = iso();
    let due = db
      .selectFrom('core_jobs')
      .select('id')
      .where('name', 'in', [...definitions.keys()])
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', current)]),
          // A running job whose lease lapsed: its worker died (or lost the database) mid-job.
          eb.and([eb('status', '=', 'running'), eb('lease_until', '<', current)]),
        ]),
      )
      .orderBy('run_at')
      .limit(limit);
    if (dialect.skipLocked) due = due.forUpdate().skipLocked();
    return (await db
      .updateTable('core_jobs')
      .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), lease_until: iso(leaseMs), locked_by: nodeId, updated_at: current }))
      .where('id', 'in', due)
      .returningAll()
      .execute()) as JobRow[];
  }

  /** Updates the job only while this node still owns this attempt of it. */
  const ownAttempt = (row: JobRow) => db.updateTable('core_jobs').where('id', '=', row.id).where('locked_by', '=', nodeId).where('attempts', '=', row.attempts);

  async function run(row: JobRow, controller: AbortController): Promise<void> {
    const definition = definitions.get(row.name)!;
    const timeout = setTimeout(() => controller.abort(new Error('job timed out')), definition.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const renew = setInterval(() => {
      ownAttempt(row)
        .set({ lease_until: iso(leaseMs) })
        .executeTakeFirst()
        .then((result) => {
          if (Number(result.numUpdatedRows) === 0) controller.abort(new Error('lease lost'));
        })
        .catch(() => undefined);
    }, Math.max(50, Math.floor(leaseMs / 3)));
    try {
      if (row.attempts > row.max_attempts) throw new Error('worker lease expired on every attempt');
      const job = { id: row.id, name: row.name, payload: JSON.parse(row.payload) as unknown, attempt: row.attempts, maxAttempts: row.max_attempts, signal: controller.signal };
      await Promise.race([
        definition.handle(job),
        new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true })),
      ]);
      await ownAttempt(row).set({ status: 'succeeded', lease_until: null, last_error: null, updated_at: iso() }).execute();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const dead = row.attempts >= row.max_attempts;
      const retryAt = iso(backoffDelay(row.attempts, definition.backoffMs ?? DEFAULT_BACKOFF_MS));
      await ownAttempt(row)
        .set({ status: dead ? 'dead' : 'queued', run_at: dead ? row.run_at : retryAt, lease_until: null, locked_by: null, last_error: message.slice(0, 2000), updated_at: iso() })
        .execute()
        .catch(() => undefined);
      logger[dead ? 'error' : 'warn']({ job: row.name, jobId: row.id, attempt: row.attempts, err: message }, dead ? 'job failed for good' : 'job failed; will retry');
    } finally {
      clearTimeout(timeout);
      clearInterval(renew);
    }
  }

  async function enqueueSchedules() {
    for (const entry of schedules.values()) {
      const tick = CronExpressionParser.parse(entry.schedule.cron, { currentDate: now(), tz: 'UTC' }).prev().toISOString();
      if (!tick || tick === entry.lastTick) continue;
      // The unique key makes the tick happen once across every node and every restart.
      await queue.enqueue(db, entry.schedule.job, entry.schedule.payload ?? null, { uniqueKey: `schedule:${entry.schedule.name}:${tick}` });
      entry.lastTick = tick;
    }
  }

  async function fill() {
    await enqueueSchedules();
    for (;;) {
      const free = concurrency - running.size;
      if (free <= 0 || stopping) return;
      const rows = await claim(free);
      for (const row of rows) {
        const controller = new AbortController();
        const done = run(row, controller).finally(() => {
          running.delete(row.id);
          wake();
        });
        running.set(row.id, { controller, done });
      }
      if (rows.length < free) return;
    }
  }

  /** One claim pass at a time; a wake-up during a pass asks for another. */
  function wake() {
    if (!started || stopping || concurrency === 0) return;
    if (claiming) {
      claimAgain = true;
      return;
    }
    claiming = true;
    void (async () => {
      do {
        claimAgain = false;
        await fill().catch((err: unknown) => logger.warn({ err }, 'job claim failed; retrying at the next poll'));
      } while (claimAgain && !stopping);
      claiming = false;
    })();
  }

  const queue: JobQueue = {
    define(name, definition) {
      definitions.set(name, definition);
    },

    async enqueue<P>(target: Db | Tx, name: string, payload: P, options: EnqueueOptions = {}): Promise<string> {
      const definition = definitions.get(name);
      if (!definition) throw new Error(`Unknown job "${name}": define it before enqueueing`);
      const createdAt = iso();
      const row = {
        id: newId('job'),
        name,
        payload: JSON.stringify(payload ?? null),
        status: 'queued',
        attempts: 0,
        max_attempts: options.maxAttempts ?? definition.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        run_at: options.runAt ? options.runAt.toISOString() : iso(options.delayMs ?? 0),
        unique_key: options.uniqueKey ?? null,
        created_at: createdAt,
        updated_at: createdAt,
      };
      let id = row.id;
      if (options.uniqueKey) {
        const inserted = await target
          .insertInto('core_jobs')
          .values(row)
          .onConflict((oc) => oc.column('unique_key').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (!inserted) {
          const existing = await target.selectFrom('core_jobs').select('id').where('unique_key', '=', options.uniqueKey).executeTakeFirstOrThrow();
          id = existing.id as string;
        }
      } else {
        await target.insertInto('core_jobs').values(row).execute();
      }
      if (target.isTransaction) afterCommit(target as Tx, wake);
      else wake();
      return id;
    },

    schedule(schedule) {
      CronExpressionParser.parse(schedule.cron, { tz: 'UTC' }); // throws on a bad expression, at start
      schedules.set(schedule.name, { schedule });
    },

    async get(id) {
      const row = (await db.selectFrom('core_jobs').selectAll().where('id', '=', id).executeTakeFirst()) as JobRow | undefined;
      return row && toRecord(row);
    },

    async list({ status, limit = 20, afterId }) {
      let query = db.selectFrom('core_jobs').selectAll().orderBy('id', 'desc').limit(limit);
      if (status) query = query.where('status', '=', status);
      if (afterId) query = query.where('id', '<', afterId);
      return ((await query.execute()) as JobRow[]).map(toRecord);
    },

    async retry(id) {
      const row = (await db
        .updateTable('core_jobs')
        .set({ status: 'queued', attempts: 0, run_at: iso(), last_error: null, lease_until: null, locked_by: null, updated_at: iso() })
        .where('id', '=', id)
        .where('status', '=', 'dead')
        .returningAll()
        .executeTakeFirst()) as JobRow | undefined;
      wake();
      return row && toRecord(row);
    },

    async depth() {
      const rows = await db.selectFrom('core_jobs').select(['status', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('status').execute();
      const depth: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, dead: 0 };
      for (const row of rows) depth[row.status as JobStatus] = Number(row.count);
      return depth;
    },

    start() {
      if (started || concurrency === 0) return;
      started = true;
      timer = setInterval(wake, pollMs);
      timer.unref();
      wake();
    },

    async stop(timeoutMs = 10_000) {
      stopping = true;
      clearInterval(timer);
      const all = () => Promise.all([...running.values()].map((r) => r.done));
      let timedOut = false;
      await Promise.race([all(), new Promise<void>((resolve) => setTimeout(() => ((timedOut = true), resolve()), timeoutMs).unref())]);
      if (timedOut && running.size) {
        // Hand unfinished jobs back at once rather than waiting for their leases to lapse elsewhere.
        const ids = [...running.keys()];
        await db
          .updateTable('core_jobs')
          .set((eb) => ({ status: 'queued', attempts: eb('attempts', '-', 1), lease_until: null, locked_by: null, updated_at: iso() }))
          .where('id', 'in', ids)
          .where('locked_by', '=', nodeId)
          .execute();
        for (const r of running.values()) r.controller.abort(new Error('node shutting down'));
        await all();
      }
      while (claiming) await new Promise((resolve) => setTimeout(resolve, 5));
      started = false;
    },
  };

  queue.define('core.jobs.prune', {
    handle: async () => {
      await db.deleteFrom('core_jobs').where('status', '=', 'succeeded').where('updated_at', '<', iso(-SUCCEEDED_RETENTION_MS)).execute();
    },
  });
  queue.schedule({ name: 'core.jobs.prune', cron: '41 4 * * *', job: 'core.jobs.prune' });
  return queue;
}

import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { Database, Db, Tx } from '../db/database.js';
import { afterCommit } from '../db/transaction.js';
import { newId } from '../ids.js';
import { backoffDelay } from './backoff.js';
import { createJobStore, toRecord, type JobRow, type NewJobRow } from './job-store.js';
import { createScheduler } from './scheduler.js';
import type { EnqueueOptions, JobContext, JobDefinition, JobQueue } from './types.js';

export interface JobQueueOptions {
  database: Database;
  clock: Clock;
  logger: FastifyBaseLogger;
  /** Jobs this node runs at once; 0 = no workers here (enqueue and schedules only). */
  concurrency: number;
  /** How long a claim is reserved; the worker renews it every third of this while the job runs. */
  leaseMs: number;
  /** How often the node looks for due jobs and schedule ticks when nothing woke it. */
  pollMs: number;
  /** Written to `locked_by`; a fresh id per queue unless given. */
  nodeId?: string;
}

const JOB_DEFAULTS = { maxAttempts: 5, backoffMs: 1000, timeoutMs: 5 * 60_000 } as const;
const SUCCEEDED_RETENTION_MS = 7 * 86_400_000;
const LAST_ERROR_MAX_CHARS = 2000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;

interface RunningJob {
  row: JobRow;
  controller: AbortController;
  done: Promise<void>;
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Rejects with the signal's reason once it aborts, so a handler that ignores its signal is left behind. */
const rejectOnAbort = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

/** Resolves true once `work` settles, or false when `ms` pass first. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The durable job queue. Jobs are rows in `core_jobs`, inserted in the caller's transaction, so a
 * job exists if and only if the write that caused it committed. Workers claim due jobs atomically,
 * hold a lease they renew while running, and record success, a retry with backoff, or death.
 */
export function createJobQueue(options: JobQueueOptions): JobQueue {
  const { database, clock, logger, concurrency, leaseMs, pollMs } = options;
  const nodeId = options.nodeId ?? newId('node');
  const store = createJobStore(database.db, database.dialect);
  const definitions = new Map<string, JobDefinition>();
  const running = new Set<RunningJob>();
  let accepting = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let claiming: Promise<void> | undefined;
  let claimAgain = false;

  const isoIn = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();
  const isoNow = () => isoIn(0);

  // ---- enqueueing ----

  function newJobRow(name: string, definition: JobDefinition, payload: unknown, opts: EnqueueOptions): NewJobRow {
    return {
      id: newId('job'),
      name,
      payload: JSON.stringify(payload ?? null),
      max_attempts: Math.max(1, opts.maxAttempts ?? definition.maxAttempts ?? JOB_DEFAULTS.maxAttempts),
      run_at: opts.runAt ? opts.runAt.toISOString() : isoIn(opts.delayMs ?? 0),
      unique_key: opts.uniqueKey ?? null,
      created_at: isoNow(),
    };
  }

  /** Local workers look at once after commit; other nodes find the job at their next poll. */
  function wakeAfterCommit(target: Db | Tx): void {
    if (!target.isTransaction) return wake();
    try {
      afterCommit(target as Tx, wake);
    } catch {
      // A transaction not opened by withTransaction() has no commit hook; the next poll finds the job.
    }
  }

  // ---- running one job ----

  /** Aborts the job when it runs past its timeout; returns a function that cancels that. */
  function abortAfterTimeout(controller: AbortController, timeoutMs: number): () => void {
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    return () => clearTimeout(timer);
  }

  /** Renews the lease every third of it; aborts the job if another node has taken it meanwhile. */
  function keepLease(row: JobRow, controller: AbortController): () => void {
    const renew = async () => {
      if (!(await store.renewLease(row, nodeId, isoIn(leaseMs)))) controller.abort(new Error('lease lost: the job was taken over'));
    };
    const timer = setInterval(() => {
      renew().catch((err: unknown) => logger.warn({ err, jobId: row.id }, 'job lease renewal failed'));
    }, Math.max(1, Math.floor(leaseMs / 3)));
    return () => clearInterval(timer);
  }

  async function runHandler(definition: JobDefinition, row: JobRow, signal: AbortSignal): Promise<void> {
    // Claiming a lapsed lease counts an attempt; past the budget, the job dies without running again.
    if (row.attempts > row.max_attempts) throw new Error('its worker stopped (died or hung) on the last attempt');
    const context: JobContext = { id: row.id, name: row.name, payload: JSON.parse(row.payload), attempt: row.attempts, maxAttempts: row.max_attempts, signal };
    await Promise.race([Promise.resolve().then(() => definition.handle(context)), rejectOnAbort(signal)]);
  }

  async function recordFailure(row: JobRow, definition: JobDefinition, err: unknown): Promise<void> {
    const message = errorMessage(err);
    const dead = row.attempts >= row.max_attempts;
    const outcome = dead
      ? { status: 'dead' as const }
      : { status: 'queued' as const, run_at: isoIn(backoffDelay(row.attempts, definition.backoffMs ?? JOB_DEFAULTS.backoffMs)) };
    const recorded = await store.finish(row, nodeId, { ...outcome, lease_until: null, locked_by: null, last_error: message.slice(0, LAST_ERROR_MAX_CHARS) }, isoNow());
    const context = { job: row.name, jobId: row.id, attempt: row.attempts, err: message };
    if (!recorded) logger.info(context, 'job attempt ended after the job was released or taken over');
    else if (dead) logger.error(context, 'job failed for good (dead)');
    else logger.warn(context, 'job failed; will retry');
  }

  async function runJob(row: JobRow, controller: AbortController): Promise<void> {
    const definition = definitions.get(row.name)!;
    const cancelTimeout = abortAfterTimeout(controller, definition.timeoutMs ?? JOB_DEFAULTS.timeoutMs);
    const stopRenewing = keepLease(row, controller);
    try {
      await runHandler(definition, row, controller.signal);
      await store.finish(row, nodeId, { status: 'succeeded', lease_until: null, last_error: null }, isoNow());
    } catch (err) {
      await recordFailure(row, definition, err).catch((recordErr: unknown) =>
        // The lease will lapse and another attempt will follow.
        logger.error({ err: recordErr, jobId: row.id }, 'could not record a failed job attempt'),
      );
    } finally {
      cancelTimeout();
      stopRenewing();
    }
  }

  function startJob(row: JobRow): void {
    const controller = new AbortController();
    const job: RunningJob = { row, controller, done: runJob(row, controller) };
    running.add(job);
    void job.done.finally(() => {
      running.delete(job);
      wake();
    });
  }

  // ---- claiming and polling ----

  async function fillFreeSlots(): Promise<void> {
    while (accepting) {
      const free = concurrency - running.size;
      if (free <= 0) return;
      const rows = await store.claimDue({ nodeId, names: [...definitions.keys()], limit: free, now: isoNow(), leaseUntil: isoIn(leaseMs) });
      rows.forEach(startJob);
      if (rows.length < free) return;
    }
  }

  /** Starts a claim pass, or asks the running one for another round (a wake-up must never be lost). */
  function wake(): void {
    if (!accepting || concurrency === 0) return;
    if (claiming) {
      claimAgain = true;
      return;
    }
    claiming = (async () => {
      do {
        claimAgain = false;
        await fillFreeSlots().catch((err: unknown) => logger.warn({ err }, 'job claim failed; retrying at the next poll'));
      } while (claimAgain && accepting);
    })().finally(() => (claiming = undefined));
  }

  /** Schedules first, then claims: a tick enqueued by this poll is claimed by it. */
  function poll(): void {
    if (polling || !accepting) return;
    polling = scheduler
      .runDue()
      .catch((err: unknown) => logger.warn({ err }, 'schedules failed; retrying at the next poll'))
      .then(wake)
      .finally(() => (polling = undefined));
  }

  /** Waits for running jobs up to `timeoutMs`, then aborts the rest and hands them back to the queue. */
  async function drain(timeoutMs: number): Promise<void> {
    const allDone = Promise.all([...running].map((job) => job.done));
    if (await settlesWithin(allDone, timeoutMs)) return;
    const unfinished = [...running];
    // Release before aborting: the aborted attempts then find the rows no longer theirs and record nothing.
    await store
      .release(unfinished.map((job) => job.row.id), nodeId, isoNow())
      .catch((err: unknown) => logger.warn({ err }, 'could not release unfinished jobs; their leases will lapse'));
    for (const job of unfinished) job.controller.abort(new Error('node shutting down'));
    await allDone;
  }

  const queue: JobQueue = {
    define(name, definition) {
      if (definitions.has(name)) throw new Error(`Job "${name}" is defined twice`);
      definitions.set(name, definition);
    },

    async enqueue(target, name, payload, opts = {}) {
      return (await queue.enqueueMany(target, [{ name, payload, options: opts }]))[0]!;
    },

    async enqueueMany(target, jobs) {
      const rows = jobs.map(({ name, payload, options = {} }) => {
        const definition = definitions.get(name);
        if (!definition) throw new Error(`Unknown job "${name}": define it before enqueueing it`);
        return newJobRow(name, definition, payload, options);
      });
      if (!rows.length) return [];
      const ids = await store.insertMany(target, rows);
      // A claim now could not take a job that runs later (an attempt's deadline, say): the poll finds it then.
      const now = isoNow();
      if (rows.some((row) => row.run_at <= now)) wakeAfterCommit(target);
      return ids;
    },

    schedule: (schedule) => scheduler.add(schedule),

    async get(id) {
      const row = await store.get(id);
      return row && toRecord(row);
    },

    async list({ status, limit = 20, afterId }) {
      return (await store.list({ status, limit, afterId })).map(toRecord);
    },

    async retry(id) {
      const row = await store.retryDead(id, isoNow());
      if (row) wake();
      return row && toRecord(row);
    },

    depth: () => store.countByStatus(),

    start() {
      if (accepting) return;
      const undefinedJobs = scheduler.jobNames().filter((name) => !definitions.has(name));
      if (undefinedJobs.length) throw new Error(`Schedules name jobs that are not defined: ${undefinedJobs.join(', ')}`);
      accepting = true;
      pollTimer = setInterval(poll, pollMs);
      pollTimer.unref();
      poll();
    },

    async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS) {
      accepting = false;
      clearInterval(pollTimer);
      // A pass in flight may still claim jobs: let it finish so that they are waited for too.
      await polling;
      await claiming;
      await drain(timeoutMs);
    },
  };

  const scheduler = createScheduler({ db: database.db, clock, logger, enqueue: queue.enqueue });

  queue.define('core.jobs.prune', { handle: () => store.deleteSucceededBefore(isoIn(-SUCCEEDED_RETENTION_MS)) });
  queue.schedule({ name: 'core.jobs.prune', cron: '41 4 * * *', job: 'core.jobs.prune' });
  return queue;
}

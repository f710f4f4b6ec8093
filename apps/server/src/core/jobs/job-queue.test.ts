import type { KyselyPlugin } from 'kysely';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeEachDialect, openTestDatabase } from '../../../test/support/databases.js';
import { until } from '../../../test/support/until.js';
import type { Clock } from '../clock.js';
import { createDatabase, type Database } from '../db/database.js';
import { withTransaction } from '../db/transaction.js';
import { backoffDelay, MAX_BACKOFF_MS } from './backoff.js';
import { createJobQueue } from './job-queue.js';
import { latestTick, tickKey } from './scheduler.js';
import type { JobContext, JobQueue } from './types.js';

const logger = pino({ level: 'silent' });

/** A clock that stands still until the test moves it (so cron ticks and backoffs are exact). */
function manualClock(start = '2026-11-22T10:00:30.000Z'): Clock & { advance(ms: number): void } {
  let now = Date.parse(start);
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

/** A handler that never finishes on its own: it only returns once its signal aborts. */
const untilAborted = ({ signal }: JobContext) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));

describe('backoff', () => {
  it('draws a delay between zero and an exponentially growing ceiling, capped at an hour', () => {
    expect(backoffDelay(1, 1000, () => 0)).toBe(0);
    expect(backoffDelay(1, 1000, () => 0.5)).toBe(500);
    expect(backoffDelay(4, 1000, () => 0.5)).toBe(4000);
    expect(backoffDelay(4, 1000, () => 0.999_999)).toBeLessThan(8000);
    expect(backoffDelay(40, 1000, () => 0.999_999)).toBeLessThan(MAX_BACKOFF_MS);
    expect(backoffDelay(40, 1000, () => 0.5)).toBe(MAX_BACKOFF_MS / 2);
  });
});

describeEachDialect('job queue', (dialect) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: Database;
  const queues: JobQueue[] = [];
  const handles: Database[] = [];

  interface NodeOptions {
    clock?: Clock;
    concurrency?: number;
    leaseMs?: number;
    /**
     * On PostgreSQL, a pool of its own, as a second server would have. SQLite is single-process with
     * one connection (a second one in this process would block the event loop on the write lock).
     */
    ownConnection?: boolean;
  }
  const makeQueue = ({ clock = { now: () => new Date() }, concurrency = 4, leaseMs = 30_000, ownConnection = false }: NodeOptions = {}) => {
    const queue = createJobQueue({ database: ownConnection && dialect === 'postgres' ? openHandle() : database, clock, logger, concurrency, leaseMs, pollMs: 10 });
    queues.push(queue);
    return queue;
  };
  const openHandle = () => {
    const handle = createDatabase(opened.testDb.config);
    handles.push(handle);
    return handle;
  };

  beforeAll(async () => {
    opened = await openTestDatabase(dialect);
    database = opened.database;
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.stop(1000)));
    await Promise.all(handles.splice(0).map((h) => h.close().catch(() => undefined)));
  });
  afterAll(() => opened.close());

  it('a job enqueued in a transaction that rolls back never runs', async () => {
    const runs: string[] = [];
    const queue = makeQueue();
    queue.define('test.record', { handle: async ({ payload }) => void runs.push(payload as string) });
    await expect(
      withTransaction(database.db, async (tx) => {
        await queue.enqueue(tx, 'test.record', 'rolled-back');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await withTransaction(database.db, (tx) => queue.enqueue(tx, 'test.record', 'committed'));
    queue.start();
    await until(() => runs.length === 1);
    expect(runs).toEqual(['committed']);
    expect((await queue.list({})).map((job) => job.payload)).toEqual(['committed']);
  });

  it('accepts a plain Kysely transaction (no commit hook) and runs the job after commit', async () => {
    const queue = makeQueue();
    queue.define('test.plain-tx', { handle: async () => {} });
    queue.start();
    const id = await database.db.transaction().execute((tx) => queue.enqueue(tx, 'test.plain-tx', {}));
    await until(async () => (await queue.get(id))?.status === 'succeeded');
  });

  it('retries a failing job with backoff, then marks it dead; an admin retry runs it again', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // the jitter: half of each ceiling
    const clock = manualClock();
    let attempts = 0;
    let healthy = false;
    const queue = makeQueue({ clock });
    queue.define('test.flaky', {
      maxAttempts: 3,
      backoffMs: 60_000,
      handle: async () => {
        attempts++;
        if (!healthy) throw new Error(`failure ${attempts}`);
      },
    });
    try {
      const id = await queue.enqueue(database.db, 'test.flaky', {});
      queue.start();
      await until(async () => (await queue.get(id))?.attempts === 1 && (await queue.get(id))?.status === 'queued');
      const afterFirst = await queue.get(id);
      expect(afterFirst).toMatchObject({ status: 'queued', lastError: 'failure 1' });
      expect(Date.parse(afterFirst!.runAt) - Date.parse(afterFirst!.updatedAt)).toBe(30_000);

      clock.advance(30_000);
      await until(async () => (await queue.get(id))?.attempts === 2 && (await queue.get(id))?.status === 'queued');
      const afterSecond = await queue.get(id);
      expect(Date.parse(afterSecond!.runAt) - Date.parse(afterSecond!.updatedAt)).toBe(60_000);

      clock.advance(60_000);
      await until(async () => (await queue.get(id))?.status === 'dead');
      expect(await queue.get(id)).toMatchObject({ status: 'dead', attempts: 3, lastError: 'failure 3' });
      expect((await queue.list({ status: 'dead' })).map((j) => j.id)).toContain(id);

      healthy = true;
      expect(await queue.retry(id)).toMatchObject({ status: 'queued', attempts: 0, lastError: null });
      await until(async () => (await queue.get(id))?.status === 'succeeded');
      expect(attempts).toBe(4);
      expect(await queue.retry(id)).toBeUndefined(); // only dead jobs are retried
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('a unique key makes a second enqueue a no-op that returns the first job', async () => {
    const queue = makeQueue({ concurrency: 0 });
    queue.define('test.unique', { handle: async () => {} });
    const first = await queue.enqueue(database.db, 'test.unique', { n: 1 }, { uniqueKey: 'digest:usr_1:2026-11-22' });
    const second = await withTransaction(database.db, async (tx) => {
      const id = await queue.enqueue(tx, 'test.unique', { n: 2 }, { uniqueKey: 'digest:usr_1:2026-11-22' });
      // The duplicate did not break the caller's transaction (a failed statement would, on PostgreSQL).
      await queue.enqueue(tx, 'test.unique', { n: 3 });
      return id;
    });
    expect(second).toBe(first);
    expect(await queue.get(first)).toMatchObject({ payload: { n: 1 }, uniqueKey: 'digest:usr_1:2026-11-22' });
  });

  it('enqueueMany inserts many jobs at once, returning their ids in order (the existing job for a duplicate key)', async () => {
    const queue = makeQueue({ concurrency: 0 });
    queue.define('test.many', { handle: async () => {} });
    const existing = await queue.enqueue(database.db, 'test.many', { n: -1 }, { uniqueKey: 'many:7' });
    // More than one INSERT's worth (500 rows), with a key already stored and one repeated in the batch.
    const jobs = Array.from({ length: 1100 }, (_, n) => ({ name: 'test.many', payload: { n }, options: { uniqueKey: `many:${n}` } }));
    jobs.push({ name: 'test.many', payload: { n: 1100 }, options: { uniqueKey: 'many:3' } });
    const ids = await withTransaction(database.db, (tx) => queue.enqueueMany(tx, jobs));

    expect(ids).toHaveLength(1101);
    expect(new Set(ids).size).toBe(1100);
    expect(ids[7]).toBe(existing);
    expect(ids[1100]).toBe(ids[3]);
    expect(await queue.get(ids[999]!)).toMatchObject({ status: 'queued', payload: { n: 999 }, uniqueKey: 'many:999' });
    expect(await queue.get(existing)).toMatchObject({ payload: { n: -1 } });
    expect(await queue.enqueueMany(database.db, [])).toEqual([]);
    await expect(queue.enqueueMany(database.db, [{ name: 'test.nobody', payload: {} }])).rejects.toThrow(/Unknown job "test\.nobody"/);
  });

  it('refuses a job name nobody defined, and a schedule of one at start', async () => {
    const queue = makeQueue({ concurrency: 0 });
    await expect(queue.enqueue(database.db, 'test.nobody', {})).rejects.toThrow(/Unknown job "test\.nobody"/);
    queue.schedule({ name: 'test.orphan', cron: '* * * * *', job: 'test.nobody' });
    expect(() => queue.start()).toThrow(/not defined: test\.nobody/);
    expect(() => queue.schedule({ name: 'test.bad-cron', cron: 'every minute', job: 'test.nobody' })).toThrow(/invalid cron/);
  });

  it('does not run a delayed job before its time', async () => {
    const clock = manualClock();
    const queue = makeQueue({ clock });
    queue.define('test.delayed', { handle: async () => {} });
    const delayed = await queue.enqueue(database.db, 'test.delayed', {}, { delayMs: 3600_000 });
    queue.start();
    // A due job enqueued after it has run: the delayed one was looked at and left alone.
    const due = await queue.enqueue(database.db, 'test.delayed', {});
    await until(async () => (await queue.get(due))?.status === 'succeeded');
    expect(await queue.get(delayed)).toMatchObject({ status: 'queued', attempts: 0 });
    clock.advance(3600_001);
    await until(async () => (await queue.get(delayed))?.status === 'succeeded');
  });

  it('a job that runs later wakes no worker at commit: no claim until it is due', async () => {
    // Counts the claims (updates of core_jobs) this queue's handle runs.
    let claims = 0;
    const counting: KyselyPlugin = {
      transformQuery: ({ node }) => {
        if (node.kind === 'UpdateQueryNode' && JSON.stringify(node.table).includes('"core_jobs"')) claims++;
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    const counted = { ...database, db: database.db.withPlugin(counting) as Database['db'] };
    const queue = createJobQueue({ database: counted, clock: { now: () => new Date() }, logger, concurrency: 4, leaseMs: 30_000, pollMs: 60_000 });
    queues.push(queue);
    const ran: string[] = [];
    queue.define('test.deadline', { handle: async ({ id }) => void ran.push(id) });
    queue.start();
    // The first poll's claim; after it, nothing runs until a wake-up (the next poll is a minute away).
    await until(() => claims > 0);
    claims = 0;
    await withTransaction(counted.db, (tx) => queue.enqueue(tx, 'test.deadline', {}, { delayMs: 3600_000 }));
    // stop() waits for any claim pass the commit started.
    await queue.stop(1000);
    expect(claims).toBe(0);
    expect(ran).toEqual([]);
  });

  it('two nodes on one database run each of 200 jobs exactly once', async () => {
    const runs = new Map<number, string[]>();
    const nodes = { a: makeQueue({ ownConnection: true }), b: makeQueue({ ownConnection: true }) };
    for (const [node, queue] of Object.entries(nodes)) {
      queue.define('test.once', {
        handle: async ({ payload }) => {
          await new Promise((resolve) => setTimeout(resolve, 1)); // overlap the two nodes' work
          runs.set(payload as number, [...(runs.get(payload as number) ?? []), node]);
        },
      });
      queue.start();
    }
    await withTransaction(database.db, async (tx) => {
      for (let i = 0; i < 200; i++) await nodes.a.enqueue(tx, 'test.once', i);
    });
    const succeeded = () => database.db.selectFrom('core_jobs').select('attempts').where('name', '=', 'test.once').where('status', '=', 'succeeded').execute();
    await until(async () => (await succeeded()).length === 200);
    expect((await succeeded()).filter((job) => Number(job.attempts) !== 1)).toEqual([]);
    expect(runs.size).toBe(200);
    expect([...runs.values()].filter((nodesThatRan) => nodesThatRan.length !== 1)).toEqual([]);
    const ranOn = new Set([...runs.values()].flat());
    expect(ranOn.size).toBe(2); // both nodes took part
  });

  it('a job whose node died is taken by another node once its lease expires', async () => {
    const clock = manualClock();
    const doomedHandle = openHandle();
    const doomed = createJobQueue({ database: doomedHandle, clock, logger, concurrency: 1, leaseMs: 5000, pollMs: 10 });
    queues.push(doomed);
    let startedOnDoomed = false;
    doomed.define('test.lease', { handle: (job) => ((startedOnDoomed = true), untilAborted(job)) });
    const id = await doomed.enqueue(database.db, 'test.lease', {});
    doomed.start();
    await until(() => startedOnDoomed);
    await doomedHandle.close(); // the node loses its database: no more renewals, its claim stays

    const survivor = makeQueue({ clock, leaseMs: 5000 });
    survivor.define('test.lease', { handle: async () => {} });
    survivor.define('test.marker', { handle: async () => {} });
    survivor.start();
    const marker = await survivor.enqueue(database.db, 'test.marker', {});
    await until(async () => (await survivor.get(marker))?.status === 'succeeded');
    expect(await survivor.get(id)).toMatchObject({ status: 'running', attempts: 1 }); // lease still valid

    clock.advance(5001);
    await until(async () => (await survivor.get(id))?.status === 'succeeded');
    expect(await survivor.get(id)).toMatchObject({ attempts: 2 });
    await doomed.stop(0);
  });

  it('a node whose lease was taken over sees its job aborted and records nothing', async () => {
    const later = manualClock(new Date(Date.now() + 3600_000).toISOString()); // long after the first node's lease
    const first = makeQueue({ leaseMs: 300 });
    let abortReason: unknown;
    first.define('test.takeover', {
      handle: (job) => ((abortReason = null), untilAborted(job).then(() => void (abortReason = job.signal.reason))),
    });
    const id = await first.enqueue(database.db, 'test.takeover', {});
    first.start();
    await until(() => abortReason === null);

    const second = makeQueue({ clock: later, leaseMs: 300 });
    second.define('test.takeover', { handle: async () => {} });
    second.start();
    await until(() => Boolean(abortReason));
    expect(String(abortReason)).toMatch(/lease lost/);
    await first.stop(5000); // its aborted attempt has finished recording (nothing)
    await until(async () => (await second.get(id))?.status === 'succeeded');
    expect(await second.get(id)).toMatchObject({ status: 'succeeded', attempts: 2, lastError: null });
  });

  it('aborts a job that runs past its timeout and counts it as a failed attempt', async () => {
    const queue = makeQueue();
    let aborted = false;
    queue.define('test.slow', { timeoutMs: 50, maxAttempts: 1, handle: (job) => untilAborted(job).then(() => void (aborted = true)) });
    const id = await queue.enqueue(database.db, 'test.slow', {});
    queue.start();
    await until(async () => (await queue.get(id))?.status === 'dead');
    expect(await queue.get(id)).toMatchObject({ attempts: 1, lastError: 'timed out after 50 ms' });
    expect(aborted).toBe(true);
  });

  it('stop() waits for a running job to finish', async () => {
    let release!: () => void;
    let finished = false;
    const queue = makeQueue();
    queue.define('test.slow', {
      handle: async () => {
        await new Promise<void>((resolve) => (release = resolve));
        finished = true;
      },
    });
    const id = await queue.enqueue(database.db, 'test.slow', {});
    queue.start();
    await until(() => release !== undefined);
    const stopping = queue.stop(10_000);
    release();
    await stopping;
    expect(finished).toBe(true);
    expect((await queue.get(id))?.status).toBe('succeeded');
  });

  it('stop() hands a job still running at the deadline back, and another node takes it at once', async () => {
    const leaving = makeQueue();
    let started = false;
    leaving.define('test.stuck', { handle: (job) => ((started = true), untilAborted(job)) });
    const id = await leaving.enqueue(database.db, 'test.stuck', {});
    leaving.start();
    await until(() => started);
    await leaving.stop(50);
    expect(await leaving.get(id)).toMatchObject({ status: 'queued', attempts: 0, lastError: null });

    const staying = makeQueue(); // leases of 30 s: it can only get the job because it was released
    staying.define('test.stuck', { handle: async () => {} });
    staying.start();
    await until(async () => (await staying.get(id))?.status === 'succeeded');
  });

  describe('schedules', () => {
    const EVERY_MINUTE = '* * * * *';
    const lastTick = async (name: string) =>
      (await database.db.selectFrom('core_job_schedules').select('last_tick').where('name', '=', name).executeTakeFirst())?.last_tick as string | undefined;

    /**
     * A node with the schedule under test, plus a probe schedule of its own registered after it:
     * once the probe's row shows a tick, this node has evaluated the schedule under test for that tick.
     */
    function schedulingNode(label: string, clock: Clock, runs: string[]) {
      const queue = makeQueue({ clock });
      queue.define('test.tick', { handle: async ({ id }) => void runs.push(id) });
      queue.schedule({ name: 'test.every-minute', cron: EVERY_MINUTE, job: 'test.tick' });
      queue.define(`test.probe-${label}`, { handle: async () => {} });
      queue.schedule({ name: `test.probe-${label}`, cron: EVERY_MINUTE, job: `test.probe-${label}` });
      queue.start();
      const evaluated = (clockNow: Date) => until(async () => (await lastTick(`test.probe-${label}`)) === latestTick(EVERY_MINUTE, clockNow));
      return { queue, evaluated };
    }

    const tickJobs = () =>
      database.db.selectFrom('core_jobs').select(['id', 'unique_key', 'status']).where('name', '=', 'test.tick').orderBy('run_at').execute();
    /**
     * Waits until `count` tick jobs are recorded as succeeded, not merely run: the manual clock then
     * jumps a minute, past the 30 s lease, and a job whose success was still being written would look
     * abandoned to the other node, which would run it again.
     */
    const succeeded = (count: number) => until(async () => (await tickJobs()).filter((job) => job.status === 'succeeded').length === count);

    it('enqueue one job per tick with two schedulers; missed ticks run once; a pruned tick never reruns', async () => {
      const clock = manualClock();
      const runs: string[] = [];
      const a = schedulingNode('a', clock, runs);
      const b = schedulingNode('b', clock, runs);
      await Promise.all([a.evaluated(clock.now()), b.evaluated(clock.now())]);
      expect(runs).toEqual([]); // a new schedule starts at its next tick

      for (let tick = 1; tick <= 3; tick++) {
        clock.advance(60_000);
        await Promise.all([a.evaluated(clock.now()), b.evaluated(clock.now())]);
        await succeeded(tick);
        expect(runs).toHaveLength(tick);
      }
      expect((await tickJobs()).length).toBe(3);
      expect(new Set(runs).size).toBe(3);

      // Every node down for ten minutes; meanwhile the prune removes the finished tick jobs.
      await Promise.all([a.queue.stop(), b.queue.stop()]);
      clock.advance(10 * 60_000);
      await database.db.deleteFrom('core_jobs').where('name', '=', 'test.tick').execute();
      const c = schedulingNode('c', clock, runs);
      await c.evaluated(clock.now());
      await succeeded(1);
      expect(runs).toHaveLength(4);
      expect((await tickJobs()).map((job) => job.unique_key)).toEqual([tickKey('test.every-minute', latestTick(EVERY_MINUTE, clock.now()))]);

      // A restart within the same minute after another prune: the tick is remembered, not rerun.
      await c.queue.stop();
      await database.db.deleteFrom('core_jobs').where('name', '=', 'test.tick').execute();
      const d = schedulingNode('d', clock, runs);
      await d.evaluated(clock.now());
      expect(await tickJobs()).toEqual([]);
      expect(runs).toHaveLength(4);
    });
  });
});

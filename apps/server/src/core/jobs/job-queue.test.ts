import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect, openTestDatabase } from '../../../test/support/databases.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import { withTransaction } from '../db/transaction.js';
import { backoffDelay, createJobQueue } from './job-queue.js';
import type { JobQueue } from './types.js';

const logger = pino({ level: 'silent' });

async function until(condition: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A clock the test moves by hand, starting now. */
function manualClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms) => void (offset += ms) };
}

describe('backoff', () => {
  it('grows exponentially with jitter and is capped at an hour', () => {
    expect(backoffDelay(1, 1000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, () => 1)).toBe(1000);
    expect(backoffDelay(4, 1000, () => 1)).toBe(8000);
    expect(backoffDelay(40, 1000, () => 1)).toBe(3600_000);
  });
});

describeEachDialect('job queue', (dialect) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: Database;
  const queues: JobQueue[] = [];
  const makeQueue = (options: { clock?: Clock; concurrency?: number; leaseMs?: number } = {}) => {
    const queue = createJobQueue({ database, clock: options.clock ?? { now: () => new Date() }, logger, concurrency: options.concurrency ?? 4, leaseMs: options.leaseMs ?? 30_000, pollMs: 10 });
    queues.push(queue);
    return queue;
  };

  beforeAll(async () => {
    opened = await openTestDatabase(dialect);
    database = opened.database;
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.stop(1000)));
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
  });

  it('retries a failing job with backoff, then marks it dead; an admin retry runs it again', async () => {
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
    const id = await queue.enqueue(database.db, 'test.flaky', {});
    queue.start();
    await until(async () => (await queue.get(id))?.attempts === 1 && (await queue.get(id))?.status === 'queued');
    const afterFirst = await queue.get(id);
    expect(afterFirst).toMatchObject({ status: 'queued', lastError: 'failure 1' });
    // Not retried before its backoff has passed.
    expect(Date.parse(afterFirst!.runAt) - clock.now().getTime()).toBeGreaterThan(25_000);
    clock.advance(61_000);
    await until(async () => (await queue.get(id))?.attempts === 2 && (await queue.get(id))?.status === 'queued');
    clock.advance(121_000);
    await until(async () => (await queue.get(id))?.status === 'dead');
    expect(await queue.get(id)).toMatchObject({ status: 'dead', attempts: 3, lastError: 'failure 3' });
    expect((await queue.list({ status: 'dead' })).map((j) => j.id)).toContain(id);

    healthy = true;
    expect(await queue.retry(id)).toMatchObject({ status: 'queued', attempts: 0 });
    await until(async () => (await queue.get(id))?.status === 'succeeded');
    expect(attempts).toBe(4);
  });

  it('a unique key makes a second enqueue a no-op that returns the first job', async () => {
    const queue = makeQueue({ concurrency: 0 });
    queue.define('test.unique', { handle: async () => {} });
    const first = await queue.enqueue(database.db, 'test.unique', { n: 1 }, { uniqueKey: 'digest:usr_1:2026-11-22' });
    const second = await withTransaction(database.db, (tx) => queue.enqueue(tx, 'test.unique', { n: 2 }, { uniqueKey: 'digest:usr_1:2026-11-22' }));
    expect(second).toBe(first);
    expect(await queue.get(first)).toMatchObject({ payload: { n: 1 } });
  });

  it('refuses a job name nobody defined', async () => {
    const queue = makeQueue({ concurrency: 0 });
    await expect(queue.enqueue(database.db, 'test.nobody', {})).rejects.toThrow(/Unknown job "test\.nobody"/);
  });

  it('does not run a delayed job before its time', async () => {
    const clock = manualClock();
    const runs: number[] = [];
    const queue = makeQueue({ clock });
    queue.define('test.delayed', { handle: async () => void runs.push(1) });
    const id = await queue.enqueue(database.db, 'test.delayed', {}, { delayMs: 3600_000 });
    queue.start();
    const marker = await queue.enqueue(database.db, 'test.delayed', {}, {});
    await until(async () => (await queue.get(marker))?.status === 'succeeded');
    expect((await queue.get(id))?.status).toBe('queued');
    clock.advance(3600_001);
    await until(async () => (await queue.get(id))?.status === 'succeeded');
    expect(runs).toHaveLength(2);
  });

  it('two nodes on one database run each of 200 jobs exactly once', async () => {
    const runs = new Map<number, number>();
    const handle = async ({ payload }: { payload: unknown }) => {
      const n = payload as number;
      runs.set(n, (runs.get(n) ?? 0) + 1);
    };
    const [a, b] = [makeQueue({ concurrency: 4 }), makeQueue({ concurrency: 4 })];
    for (const q of [a!, b!]) q.define('test.once', { handle });
    for (let i = 0; i < 200; i++) await a!.enqueue(database.db, 'test.once', i);
    a!.start();
    b!.start();
    await until(() => runs.size === 200);
    await until(async () => (await a!.depth()).running === 0);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
  });

  it('a job whose worker died is taken by another node once its lease expires', async () => {
    const clock = manualClock();
    const dead = makeQueue({ clock, leaseMs: 5000 });
    let startedOnDead = false;
    dead.define('test.lease', { handle: () => ((startedOnDead = true), new Promise<void>(() => {})) }); // never finishes
    const id = await dead.enqueue(database.db, 'test.lease', {});
    dead.start();
    await until(() => startedOnDead);
    // The node "dies": no more renewals, its claim stays in the table.
    await dead.stop(0);
    await database.db.updateTable('core_jobs').set({ status: 'running', lease_until: new Date(Date.now() + 5000).toISOString() }).where('id', '=', id).execute();

    const survivor = makeQueue({ clock, leaseMs: 5000 });
    let ranOnSurvivor = false;
    survivor.define('test.lease', { handle: async () => void (ranOnSurvivor = true) });
    survivor.start();
    expect((await survivor.get(id))?.status).toBe('running');
    clock.advance(6000);
    await until(async () => (await survivor.get(id))?.status === 'succeeded');
    expect(ranOnSurvivor).toBe(true);
  });

  it('stop() waits for a running job to finish', async () => {
    let release!: () => void;
    let finished = false;
    const queue = makeQueue();
    const started = new Promise<void>((resolve) => {
      queue.define('test.slow', {
        handle: async () => {
          resolve();
          await new Promise<void>((r) => (release = r));
          finished = true;
        },
      });
    });
    const id = await queue.enqueue(database.db, 'test.slow', {});
    queue.start();
    await started;
    const stopping = queue.stop(10_000);
    setTimeout(() => release(), 50);
    await stopping;
    expect(finished).toBe(true);
    expect((await queue.get(id))?.status).toBe('succeeded');
  });

  it('stop() hands a job still running at the deadline back to the queue', async () => {
    const queue = makeQueue();
    let started = false;
    queue.define('test.stuck', { handle: () => ((started = true), new Promise<void>(() => {})) });
    const id = await queue.enqueue(database.db, 'test.stuck', {});
    queue.start();
    await until(() => started);
    await queue.stop(50);
    expect(await queue.get(id)).toMatchObject({ status: 'queued', attempts: 0 });
  });

  it('a cron schedule enqueues one job per tick, even with two schedulers', async () => {
    const clock = manualClock();
    const runs: string[] = [];
    const [a, b] = [makeQueue({ clock }), makeQueue({ clock })];
    for (const q of [a!, b!]) {
      q.define('test.tick', { handle: async ({ id }) => void runs.push(id) });
      q.schedule({ name: 'test.every-minute', cron: '* * * * *', job: 'test.tick' });
    }
    a!.start();
    b!.start();
    await until(() => runs.length === 1);
    clock.advance(60_000);
    await until(() => runs.length === 2);
    clock.advance(60_000);
    await until(() => runs.length === 3);
    // Give both schedulers a few more polls: no tick may run twice.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runs).toHaveLength(3);
    expect(new Set(runs).size).toBe(3);
  });
});

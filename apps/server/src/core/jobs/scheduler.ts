import { CronExpressionParser } from 'cron-parser';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { Db, Tx } from '../db/database.js';
import { withTransaction } from '../db/transaction.js';
import type { JobQueue, Schedule } from './types.js';

const SCHEDULES = 'core_job_schedules';

export interface Scheduler {
  /** Registers a schedule; throws on a bad cron expression or a name used twice. */
  add(schedule: Schedule): void;
  /** The job names schedules enqueue, to check at start that each is defined. */
  jobNames(): string[];
  /** Enqueues the latest tick of every schedule that no node has enqueued yet. */
  runDue(): Promise<void>;
}

/** The most recent tick at or before `now`, as ISO text. */
export function latestTick(cron: string, now: Date): string {
  // prev() looks strictly before its start: start 1 ms later so that a tick at exactly `now` counts.
  const tick = CronExpressionParser.parse(cron, { currentDate: new Date(now.getTime() + 1), tz: 'UTC' }).prev();
  return tick.toISOString()!;
}

/** The first tick after `tick` (epoch ms): until then, `tick` stays the latest. */
function tickAfter(cron: string, tick: string): number {
  return CronExpressionParser.parse(cron, { currentDate: new Date(tick), tz: 'UTC' }).next().getTime();
}

export const tickKey = (scheduleName: string, tick: string) => `schedule:${scheduleName}:${tick}`;

/**
 * Cron schedules, evaluated by every node. A tick is enqueued by whichever node first moves the
 * schedule's row in `core_job_schedules` forward to it, in the same transaction as the job, so it
 * runs once across the cluster. Only the latest tick is considered: ticks missed while every node
 * was down collapse into one run.
 */
export function createScheduler({ db, clock, logger, enqueue }: { db: Db; clock: Clock; logger: FastifyBaseLogger; enqueue: JobQueue['enqueue'] }): Scheduler {
  // The tick this node last handled per schedule, so that most polls touch no table, and when the
  // next one falls, so that they parse no cron expression either.
  const schedules = new Map<string, { schedule: Schedule; handledTick?: string; handledTickMs?: number; nextTickMs?: number }>();

  async function enqueueIfFirst(schedule: Schedule, tick: string): Promise<void> {
    await withTransaction(db, async (tx) => {
      if (!(await advanceTo(tx, schedule.name, tick, clock.now().toISOString()))) return;
      // The unique key is a second guard and names the tick in the admin list.
      await enqueue(tx, schedule.job, schedule.payload ?? null, { uniqueKey: tickKey(schedule.name, tick) });
    });
  }

  return {
    add(schedule) {
      if (schedules.has(schedule.name)) throw new Error(`Schedule "${schedule.name}" is defined twice`);
      try {
        CronExpressionParser.parse(schedule.cron, { tz: 'UTC' });
      } catch (err) {
        throw new Error(`Schedule "${schedule.name}": invalid cron expression "${schedule.cron}" (${(err as Error).message})`);
      }
      schedules.set(schedule.name, { schedule });
    },

    jobNames: () => [...schedules.values()].map(({ schedule }) => schedule.job),

    async runDue() {
      for (const entry of schedules.values()) {
        const now = clock.now();
        if (entry.handledTickMs !== undefined && entry.nextTickMs !== undefined && now.getTime() >= entry.handledTickMs && now.getTime() < entry.nextTickMs) continue;
        const tick = latestTick(entry.schedule.cron, now);
        if (tick === entry.handledTick) continue;
        try {
          await enqueueIfFirst(entry.schedule, tick);
          entry.handledTick = tick;
          entry.handledTickMs = Date.parse(tick);
          entry.nextTickMs = tickAfter(entry.schedule.cron, tick);
        } catch (err) {
          // One failing schedule must not hold up the others; the next poll tries again.
          logger.warn({ err, schedule: entry.schedule.name, tick }, 'schedule tick failed; retrying at the next poll');
        }
      }
    },
  };
}

/**
 * Moves the schedule's last tick forward to `tick`; true when this call did it. Concurrent callers
 * serialise on the row (PostgreSQL re-checks `last_tick < tick` after the first commits; SQLite
 * has one writer), so exactly one of them sees true.
 */
async function advanceTo(tx: Tx, name: string, tick: string, now: string): Promise<boolean> {
  const created = await tx
    .insertInto(SCHEDULES)
    .values({ name, last_tick: tick, updated_at: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .returning('name')
    .executeTakeFirst();
  // A schedule seen for the first time starts from its next tick: ticks before it existed were not missed.
  if (created) return false;
  const advanced = await tx.updateTable(SCHEDULES).set({ last_tick: tick, updated_at: now }).where('name', '=', name).where('last_tick', '<', tick).executeTakeFirst();
  return advanced.numUpdatedRows > 0n;
}

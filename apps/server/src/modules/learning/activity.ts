import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Db, Tx } from '../../core/db/database.js';
import { compileReadOn, compileWriteOn } from '../../core/db/prepared-read.js';
import type { EventLog } from '../../core/events/types.js';
import { localDate } from '../../core/time-zone.js';
import type { UsersDirectory } from '../identity/index.js';
import { LearningEvents, type AchievementAwardedPayload } from './learning.events.js';
import type { LearningTables } from './learning.tables.js';

/** The achievements a student can earn, each at most once. */
export const ACHIEVEMENTS = ['first_lesson', 'streak_7', 'perfect_score'] as const;
export type Achievement = (typeof ACHIEVEMENTS)[number];

/** A study session counts as a day's learning activity from this many minutes on. */
export const STREAK_SESSION_MINUTES = 10;
/** Days in a row that earn `streak_7`. */
export const STREAK_ACHIEVEMENT_DAYS = 7;

const DAY_MS = 86_400_000;
const previousDay = (day: string): string => new Date(Date.parse(`${day}T00:00:00.000Z`) - DAY_MS).toISOString().slice(0, 10);

export interface StreakView {
  current: number;
  longest: number;
  today: string;
  lastActiveDay: string | null;
  activeToday: boolean;
  /** The zone whose days `today` and the current streak are counted in: the learner's, or UTC. */
  timeZone: string;
}

/**
 * Streak days and achievements. The hooks run inside the transaction of the write that triggers
 * them (a lesson completed, an attempt submitted or graded, a study session ended); an achievement
 * row's primary key (student, achievement) makes the award and its event happen exactly once, even
 * when two triggering writes race. A day is a calendar day in the learner's time zone (identity's
 * profile, UTC when unset) at the moment of the activity: a day already counted stays counted when
 * the learner later moves to another zone.
 */
export function createActivity(ctx: { db: Db; clock: Clock; events: EventLog; users: Pick<UsersDirectory, 'lookup'> }) {
  const { db, clock, events, users } = ctx;
  const h = (handle: unknown) => handle as Kysely<LearningTables>;

  // The writes every submission makes, and the read after a new day, compiled once.
  const insertAchievement = compileWriteOn(db, (q, userId: string, achievement: Achievement, at: string) =>
    h(q).insertInto('learning_achievement').values({ user_id: userId, achievement, awarded_at: at }).onConflict((oc) => oc.columns(['user_id', 'achievement']).doNothing()),
  );
  const insertDay = compileWriteOn(db, (q, userId: string, day: string, at: string) =>
    h(q).insertInto('learning_activity_day').values({ user_id: userId, day, first_at: at }).onConflict((oc) => oc.columns(['user_id', 'day']).doNothing()),
  );
  const lastDays = compileReadOn(db, (q, userId: string, until: string, limit: number) =>
    h(q).selectFrom('learning_activity_day').select('day').where('user_id', '=', userId).where('day', '<=', until).orderBy('day', 'desc').limit(limit),
  );

  /** The learner's zone, read through `handle` when it is an open transaction (SQLite has one connection). */
  async function zoneOf(handle: unknown, userId: string): Promise<string> {
    const within = (handle as Db).isTransaction ? (handle as Tx) : undefined;
    return (await users.lookup([userId], within)).get(userId)?.timeZone ?? 'UTC';
  }

  async function award(tx: Tx, userId: string, achievement: Achievement): Promise<boolean> {
    if (!(await insertAchievement(tx, userId, achievement, clock.now().toISOString()))) return false;
    await events.append<AchievementAwardedPayload>(tx, {
      type: LearningEvents.achievementAwarded,
      scopes: [`user:${userId}`],
      payload: { userId, achievement },
      actorId: null,
    });
    return true;
  }

  /** The streak from the student's active days (newest first), as seen on `today`. */
  async function streak(handle: unknown, userId: string): Promise<StreakView> {
    const timeZone = await zoneOf(handle, userId);
    const today = localDate(clock.now(), timeZone);
    const days = (await h(handle).selectFrom('learning_activity_day').select('day').where('user_id', '=', userId).orderBy('day', 'desc').limit(1000).execute()).map((r) => r.day);
    let longest = 0;
    let run = 0;
    days.forEach((day, i) => {
      run = i > 0 && day === previousDay(days[i - 1]!) ? run + 1 : 1;
      longest = Math.max(longest, run);
    });
    const current = currentRun(days, today);
    return { current, longest, today, lastActiveDay: days[0] ?? null, activeToday: days[0] === today, timeZone };
  }

  /** Records a day of activity at `at`; a new day may complete a 7-day streak. */
  async function recordDay(tx: Tx, userId: string, at: string): Promise<void> {
    const day = localDate(new Date(at), await zoneOf(tx, userId));
    if (!(await insertDay(tx, userId, day, at))) return;
    const days = (await lastDays(tx, userId, day, STREAK_ACHIEVEMENT_DAYS)).map((r) => r.day);
    if (currentRun(days, day) >= STREAK_ACHIEVEMENT_DAYS) await award(tx, userId, 'streak_7');
  }

  return {
    award,
    streak,
    zoneOf,
    async lessonCompleted(tx: Tx, userId: string): Promise<void> {
      await recordDay(tx, userId, clock.now().toISOString());
      await award(tx, userId, 'first_lesson');
    },
    async attemptSubmitted(tx: Tx, userId: string): Promise<void> {
      await recordDay(tx, userId, clock.now().toISOString());
    },
    /** A final score: full marks (of at least one point) earn `perfect_score`. */
    async attemptGraded(tx: Tx, userId: string, score: number, maxScore: number): Promise<void> {
      if (maxScore > 0 && score >= maxScore) await award(tx, userId, 'perfect_score');
    },
    async sessionEnded(tx: Tx, userId: string, seconds: number, endedAt: string): Promise<void> {
      if (seconds >= STREAK_SESSION_MINUTES * 60) await recordDay(tx, userId, endedAt);
    },
  };
}

/** Length of the run of consecutive days (newest first) that ends on `today` or the day before. */
function currentRun(days: string[], today: string): number {
  if (!days.length || (days[0] !== today && days[0] !== previousDay(today))) return 0;
  let n = 1;
  while (n < days.length && days[n] === previousDay(days[n - 1]!)) n++;
  return n;
}

export type Activity = ReturnType<typeof createActivity>;

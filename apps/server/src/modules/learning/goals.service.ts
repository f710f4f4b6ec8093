import type { Kysely } from 'kysely';
import type { Tx } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { Principal } from '../../core/http/access.js';
import { versionMismatch } from '../../core/http/etag.js';
import { toPage, type Page } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { Achievement, Activity, StreakView } from './activity.js';
import { canSeeLessons, type CourseService, type LearningContext } from './courses.service.js';
import { courseNotFound, goalNotFound, invalid, LearningErrors, lessonNotFound, sessionNotFound } from './learning.errors.js';
import { LearningEvents, type GoalPayload, type StudySessionPayload } from './learning.events.js';
import type { GoalRow, LearningTables, StudySessionRow } from './learning.tables.js';
import type { GoalCreate, GoalPatch, GoalView, SessionStart, StudySessionView } from './goals.schemas.js';
import type { CourseProgressView } from './progress.schemas.js';
import { weekOf } from './weeks.js';

/** A heartbeat later than this after the previous one finds the session ended at that previous one. */
export const HEARTBEAT_GAP_SECONDS = 300;
export const CLOSE_ABANDONED_JOB = 'learning.sessions.close-abandoned';

/**
 * Learning goals with computed progress, study sessions (bounded by the heartbeat gap, closed by a
 * job when abandoned), streaks and achievements. Everything here belongs to the caller alone.
 */
export function createGoalService(
  ctx: LearningContext & { courses: CourseService; activity: Activity; progressOf: (courseId: string, courseTitle: string, userId: string) => Promise<CourseProgressView> },
) {
  const { database, clock, events, cursors, courses, activity, progressOf } = ctx;
  const db = database.db as unknown as Kysely<LearningTables>;
  const h = (handle: unknown) => handle as Kysely<LearningTables>;
  const iso = () => clock.now().toISOString();

  // ── sessions ────────────────────────────────────────────────────────
  function sessionView(row: StudySessionRow): StudySessionView {
    const seconds = row.ended_at ? row.seconds : Math.max(0, Math.floor((Date.parse(row.last_seen_at) - Date.parse(row.started_at)) / 1000));
    return {
      id: row.id,
      courseId: row.course_id,
      lessonId: row.lesson_id,
      startedAt: row.started_at,
      lastHeartbeatAt: row.last_seen_at,
      endedAt: row.ended_at,
      endReason: row.end_reason as StudySessionView['endReason'],
      active: row.ended_at === null,
      seconds,
      minutes: Math.floor(seconds / 60),
      version: row.version,
    };
  }

  const stale = (row: StudySessionRow, now: Date) => now.getTime() - Date.parse(row.last_seen_at) > HEARTBEAT_GAP_SECONDS * 1000;

  /** Ends an open session at `endAt` (never past the heartbeat bound); null when it had already ended. */
  async function close(tx: Tx, row: StudySessionRow, endAt: string, reason: string): Promise<StudySessionRow | null> {
    const seconds = Math.max(0, Math.floor((Date.parse(endAt) - Date.parse(row.started_at)) / 1000));
    const changes = { ended_at: endAt, end_reason: reason, seconds, version: row.version + 1 };
    const result = await h(tx).updateTable('learning_study_session').set(changes).where('id', '=', row.id).where('ended_at', 'is', null).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    await events.append<StudySessionPayload>(tx, {
      type: LearningEvents.sessionEnded,
      scopes: [`user:${row.user_id}`],
      payload: { sessionId: row.id, userId: row.user_id, courseId: row.course_id, seconds, endReason: reason },
      actorId: null,
    });
    await activity.sessionEnded(tx, row.user_id, seconds, endAt);
    return { ...row, ...changes };
  }

  /** Ends at `now`, or at the last heartbeat when the gap since it is over the bound. */
  function boundedClose(tx: Tx, row: StudySessionRow, reason: string) {
    const now = clock.now();
    return stale(row, now) ? close(tx, row, row.last_seen_at, 'timeout') : close(tx, row, now.toISOString(), reason);
  }

  async function ownSession(handle: unknown, principal: Principal, id: string): Promise<StudySessionRow> {
    const row = await h(handle).selectFrom('learning_study_session').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.user_id !== principal.userId) throw sessionNotFound();
    return row;
  }

  const sessionEnded = () => new AppError(409, LearningErrors.LEARNING_SESSION_ENDED, `The session has ended (no heartbeat for over ${HEARTBEAT_GAP_SECONDS / 60} minutes, or stopped): start a new one.`);

  // ── goals ───────────────────────────────────────────────────────────
  /** This week's value of a weekly goal; weeks run from Monday 00:00 in the learner's zone, as streak days do. */
  async function weekly(userId: string, goal: GoalRow, now: Date, timeZone: string): Promise<{ value: number; start: string; end: string }> {
    const { start, end } = weekOf(now, timeZone);
    if (goal.kind === 'minutes_per_week') {
      let q = db.selectFrom('learning_study_session').select((eb) => eb.fn.sum<number | string | null>('seconds').as('total')).where('user_id', '=', userId).where('ended_at', '>=', start).where('ended_at', '<', end);
      if (goal.course_id) q = q.where('course_id', '=', goal.course_id);
      const row = await q.executeTakeFirst();
      return { value: Math.floor(Number(row?.total ?? 0) / 60), start, end };
    }
    let q = db.selectFrom('learning_lesson_completion').select((eb) => eb.fn.countAll<number | string>().as('n')).where('user_id', '=', userId).where('completed_at', '>=', start).where('completed_at', '<', end);
    if (goal.course_id) q = q.where('course_id', '=', goal.course_id);
    const row = await q.executeTakeFirst();
    return { value: Number(row?.n ?? 0), start, end };
  }

  /** `timeZone`: the goal's owner's (see Activity.zoneOf). */
  async function goalView(goal: GoalRow, timeZone: string): Promise<GoalView> {
    const now = clock.now();
    const base = { id: goal.id, kind: goal.kind as GoalView['kind'], title: goal.title, courseId: goal.course_id, target: goal.target, dueAt: goal.due_at, createdAt: goal.created_at, updatedAt: goal.updated_at, version: goal.version };
    if (goal.kind === 'course_by_date') {
      const p = await progressOf(goal.course_id!, '', goal.user_id);
      const due = Date.parse(goal.due_at!);
      const achieved = p.completed && p.completedAt !== null && Date.parse(p.completedAt) <= due;
      const status = achieved ? 'achieved' : now.getTime() > due || p.completed ? 'missed' : 'active';
      return { ...base, status, progress: { value: p.percent, target: 100, unit: 'percent', percent: p.percent, periodStart: null, periodEnd: goal.due_at } };
    }
    const target = goal.target ?? 1;
    const { value, start, end } = await weekly(goal.user_id, goal, now, timeZone);
    return {
      ...base,
      status: value >= target ? 'achieved' : 'active',
      progress: { value, target, unit: goal.kind === 'minutes_per_week' ? 'minutes' : 'lessons', percent: Math.min(100, Math.floor((value * 100) / target)), periodStart: start, periodEnd: end },
    };
  }

  async function ownGoal(handle: unknown, principal: Principal, id: string): Promise<GoalRow> {
    const row = await h(handle).selectFrom('learning_goal').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.user_id !== principal.userId) throw goalNotFound();
    return row;
  }

  const goalEvent = (tx: Tx, type: string, goal: GoalRow) =>
    events.append<GoalPayload>(tx, { type, scopes: [`user:${goal.user_id}`], payload: { goalId: goal.id, userId: goal.user_id, kind: goal.kind, version: goal.version }, actorId: goal.user_id });

  return {
    // ── sessions ──
    async startSession(principal: Principal, input: SessionStart): Promise<StudySessionView> {
      let courseId = input.courseId ?? null;
      const lessonId = input.lessonId ?? null;
      if (lessonId) {
        const lesson = await db.selectFrom('learning_lesson').select(['course_id', 'status']).where('id', '=', lessonId).executeTakeFirst();
        const access = lesson && (await courses.accessOf(principal, lesson.course_id));
        if (!lesson || !access || !canSeeLessons(access) || (!access.staff && lesson.status !== 'published')) throw lessonNotFound();
        if (courseId && courseId !== lesson.course_id) throw invalid('The lesson belongs to another course.', '/body/lessonId');
        courseId = lesson.course_id;
      } else if (courseId) {
        const access = await courses.accessOf(principal, courseId);
        if (!access || !canSeeLessons(access)) throw courseNotFound();
      }
      return withTransaction(database.db, async (tx) => {
        const open = await h(tx).selectFrom('learning_study_session').selectAll().where('user_id', '=', principal.userId).where('ended_at', 'is', null).execute();
        for (const row of open) await boundedClose(tx, row, 'replaced');
        const now = iso();
        const row: StudySessionRow = { id: newId('ses'), user_id: principal.userId, course_id: courseId, lesson_id: lessonId, started_at: now, last_seen_at: now, ended_at: null, end_reason: null, seconds: 0, version: 1 };
        await h(tx).insertInto('learning_study_session').values(row).execute();
        await events.append<StudySessionPayload>(tx, { type: LearningEvents.sessionStarted, scopes: [`user:${principal.userId}`], payload: { sessionId: row.id, userId: row.user_id, courseId, seconds: 0, endReason: null }, actorId: principal.userId });
        return sessionView(row);
      });
    },

    /** Keeps a session alive. After a gap over the bound the session is ended at the last heartbeat (409). */
    async heartbeat(principal: Principal, id: string): Promise<StudySessionView> {
      const result = await withTransaction(database.db, async (tx) => {
        const row = await ownSession(tx, principal, id);
        if (row.ended_at) return null;
        if (stale(row, clock.now())) {
          await close(tx, row, row.last_seen_at, 'timeout');
          return null;
        }
        const next = { last_seen_at: iso(), version: row.version + 1 };
        const updated = await h(tx).updateTable('learning_study_session').set(next).where('id', '=', row.id).where('ended_at', 'is', null).executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) return null;
        return sessionView({ ...row, ...next });
      });
      if (!result) throw sessionEnded();
      return result;
    },

    /** Ends the session (idempotent: an ended one is returned as it is). */
    async stopSession(principal: Principal, id: string): Promise<StudySessionView> {
      return withTransaction(database.db, async (tx) => {
        const row = await ownSession(tx, principal, id);
        if (row.ended_at) return sessionView(row);
        const closed = await boundedClose(tx, row, 'stopped');
        return sessionView(closed ?? (await ownSession(tx, principal, id)));
      });
    },

    async listSessions(principal: Principal, query: { limit?: number; cursor?: string }): Promise<Page<StudySessionView>> {
      const limit = query.limit ?? 20;
      const after = query.cursor ? String(cursors.decode(query.cursor)[0]) : undefined;
      let q = db.selectFrom('learning_study_session').selectAll().where('user_id', '=', principal.userId);
      if (after !== undefined) q = q.where('id', '<', after);
      const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
      return toPage(rows, limit, cursors, (r) => [r.id], sessionView);
    },

    /** The scheduled job: ends sessions whose last heartbeat is older than the bound, at that heartbeat. */
    async closeAbandoned(): Promise<number> {
      const cutoff = new Date(clock.now().getTime() - HEARTBEAT_GAP_SECONDS * 1000).toISOString();
      const rows = await db.selectFrom('learning_study_session').selectAll().where('ended_at', 'is', null).where('last_seen_at', '<', cutoff).orderBy('id').limit(500).execute();
      let closed = 0;
      for (const row of rows) {
        const done = await withTransaction(database.db, async (tx) => {
          const fresh = await h(tx).selectFrom('learning_study_session').selectAll().where('id', '=', row.id).executeTakeFirst();
          if (!fresh || fresh.ended_at || !stale(fresh, clock.now())) return null;
          return close(tx, fresh, fresh.last_seen_at, 'abandoned');
        });
        if (done) closed++;
      }
      return closed;
    },

    // ── goals ──
    async createGoal(principal: Principal, input: GoalCreate): Promise<GoalView> {
      let title = input.title?.trim();
      if (input.kind === 'course_by_date') {
        if (!input.courseId) throw invalid('A course goal needs courseId.', '/body/courseId');
        if (!input.dueAt) throw invalid('A course goal needs dueAt.', '/body/dueAt');
        if (input.target !== undefined) throw invalid('A course goal has no target: it is the whole course.', '/body/target');
        const course = await courses.visible(principal, input.courseId);
        title ||= `Finish ${course.course.title}`;
      } else {
        if (input.target === undefined) throw invalid('A weekly goal needs a target.', '/body/target');
        if (input.dueAt !== undefined) throw invalid('A weekly goal has no due date: it repeats every week.', '/body/dueAt');
        if (input.courseId) await courses.visible(principal, input.courseId);
        title ||= input.kind === 'minutes_per_week' ? `Study ${input.target} minutes a week` : `Complete ${input.target} lessons a week`;
      }
      if (!title) throw invalid('The title must not be blank.', '/body/title');
      const now = iso();
      const row: GoalRow = { id: newId('goal'), user_id: principal.userId, kind: input.kind, title, course_id: input.courseId ?? null, target: input.target ?? null, due_at: input.dueAt ? new Date(input.dueAt).toISOString() : null, created_at: now, updated_at: now, version: 1 };
      await withTransaction(database.db, async (tx) => {
        await h(tx).insertInto('learning_goal').values(row).execute();
        await goalEvent(tx, LearningEvents.goalCreated, row);
      });
      return goalView(row, await activity.zoneOf(db, principal.userId));
    },

    async listGoals(principal: Principal, query: { limit?: number; cursor?: string }): Promise<Page<GoalView>> {
      const limit = query.limit ?? 20;
      const after = query.cursor ? String(cursors.decode(query.cursor)[0]) : undefined;
      let q = db.selectFrom('learning_goal').selectAll().where('user_id', '=', principal.userId);
      if (after !== undefined) q = q.where('id', '<', after);
      const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
      const views = new Map<string, GoalView>();
      const timeZone = await activity.zoneOf(db, principal.userId);
      for (const r of rows.slice(0, limit)) views.set(r.id, await goalView(r, timeZone));
      return toPage(rows, limit, cursors, (r) => [r.id], (r) => views.get(r.id)!);
    },

    async getGoal(principal: Principal, id: string): Promise<GoalView> {
      return goalView(await ownGoal(db, principal, id), await activity.zoneOf(db, principal.userId));
    },

    async updateGoal(principal: Principal, id: string, expected: number | undefined, patch: GoalPatch): Promise<GoalView> {
      const next = await withTransaction(database.db, async (tx) => {
        const goal = await ownGoal(tx, principal, id);
        if (expected !== undefined && expected !== goal.version) throw versionMismatch(goal.version);
        if (patch.target !== undefined && goal.kind === 'course_by_date') throw invalid('A course goal has no target.', '/body/target');
        if (patch.dueAt !== undefined && goal.kind !== 'course_by_date') throw invalid('A weekly goal has no due date.', '/body/dueAt');
        const title = patch.title?.trim();
        if (patch.title !== undefined && !title) throw invalid('The title must not be blank.', '/body/title');
        const changes: Partial<GoalRow> = {
          ...(title ? { title } : {}),
          ...(patch.target !== undefined ? { target: patch.target } : {}),
          ...(patch.dueAt !== undefined ? { due_at: new Date(patch.dueAt).toISOString() } : {}),
          updated_at: iso(),
          version: goal.version + 1,
        };
        const result = await h(tx).updateTable('learning_goal').set(changes).where('id', '=', goal.id).where('version', '=', goal.version).executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) throw versionMismatch(goal.version + 1);
        const row = { ...goal, ...changes };
        await goalEvent(tx, LearningEvents.goalUpdated, row);
        return row;
      });
      return goalView(next, await activity.zoneOf(db, principal.userId));
    },

    async deleteGoal(principal: Principal, id: string, expected: number | undefined): Promise<void> {
      await withTransaction(database.db, async (tx) => {
        const goal = await ownGoal(tx, principal, id);
        if (expected !== undefined && expected !== goal.version) throw versionMismatch(goal.version);
        await h(tx).deleteFrom('learning_goal').where('id', '=', goal.id).execute();
        await goalEvent(tx, LearningEvents.goalDeleted, goal);
      });
    },

    // ── streaks and achievements ──
    streak: (principal: Principal): Promise<StreakView> => activity.streak(db, principal.userId),

    async achievements(principal: Principal): Promise<{ items: Array<{ achievement: Achievement; awardedAt: string }> }> {
      const rows = await db.selectFrom('learning_achievement').selectAll().where('user_id', '=', principal.userId).orderBy('awarded_at').orderBy('achievement').execute();
      return { items: rows.map((r) => ({ achievement: r.achievement as Achievement, awardedAt: r.awarded_at })) };
    },
  };
}

export type GoalService = ReturnType<typeof createGoalService>;

import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { signUp } from '../../../test/support/identity.js';
import { api, createCourse, createLesson, eventsOf, learningApp, studentPrincipal, type LearningTestApp } from '../../../test/support/learning.js';

const MIN = 60_000;
const DAY = 86_400_000;

describeEachDialect('learning: goals, study sessions, streaks and achievements', (dialect) => {
  let t: LearningTestApp;
  beforeAll(async () => {
    t = await learningApp({ dialect });
  }, 180_000);
  afterAll(() => t?.destroy());

  /** A new student enrolled in a new course of `lessons` lessons (optional ones: completing them issues no certificate). */
  async function enrolledStudent(lessons: number, input: Record<string, unknown> = { required: false }) {
    const student = await signUp(t);
    const course = await createCourse(t, t.teacher, { title: 'Goals course' });
    const ids: string[] = [];
    for (let i = 0; i < lessons; i++) ids.push((await createLesson(t, t.teacher, course.id, { title: `L${i}`, ...input })).id);
    expect((await api(t, student, 'POST', `/courses/${course.id}/enrollments`, {})).statusCode).toBe(201);
    return { student, me: studentPrincipal(student.userId), courseId: course.id as string, lessonIds: ids };
  }
  const awardsOf = async (userId: string, achievement: string) =>
    (await eventsOf(t, 'learning.achievement.awarded')).filter((e) => {
      const p = e.payload as { userId: string; achievement: string };
      return p.userId === userId && p.achievement === achievement;
    });

  it('sessions are bounded by the heartbeat gap, closed by the job when abandoned, and feed progress and goals', async () => {
    const { student, me, courseId, lessonIds } = await enrolledStudent(1, { required: true });
    const other = await createCourse(t, t.teacher, { title: 'Later' });
    await createLesson(t, t.teacher, other.id, { title: 'Only' });
    const start = t.clock.now().getTime();
    try {
      const goals = t.learning.goals;
      const minutesGoal = await api(t, student, 'POST', '/learning/goals', { kind: 'minutes_per_week', target: 30, courseId });
      expect(minutesGoal.statusCode, minutesGoal.body).toBe(201);
      expect(minutesGoal.json()).toMatchObject({ kind: 'minutes_per_week', title: 'Study 30 minutes a week', status: 'active', progress: { value: 0, target: 30, unit: 'minutes', percent: 0 } });
      const lessonsGoal = (await api(t, student, 'POST', '/learning/goals', { kind: 'lessons_per_week', target: 1 })).json();
      const courseGoal = (await api(t, student, 'POST', '/learning/goals', { kind: 'course_by_date', courseId, dueAt: new Date(start + 7 * DAY).toISOString() })).json();
      expect(courseGoal).toMatchObject({ title: 'Finish Goals course', status: 'active', progress: { value: 0, target: 100, unit: 'percent' } });
      expect((await api(t, student, 'POST', '/learning/goals', { kind: 'course_by_date', courseId })).json().code).toBe('LEARNING_INVALID');
      expect((await api(t, student, 'POST', '/learning/goals', { kind: 'course_by_date', courseId, target: 3, dueAt: new Date(start).toISOString() })).statusCode).toBe(422);
      expect((await api(t, student, 'POST', '/learning/goals', { kind: 'minutes_per_week' })).statusCode).toBe(422);
      expect((await api(t, student, 'POST', '/learning/goals', { kind: 'minutes_per_week', target: 5, courseId: 'crs_nope' })).statusCode).toBe(404);

      // Heartbeats within 5 minutes keep the session; a longer gap ends it at the last heartbeat.
      const first = await api(t, student, 'POST', '/learning/sessions', { lessonId: lessonIds[0] });
      expect(first.statusCode, first.body).toBe(201);
      expect(first.json()).toMatchObject({ courseId, lessonId: lessonIds[0], active: true, seconds: 0 });
      const id = first.json().id as string;
      t.clock.advance(4 * MIN);
      expect(await goals.heartbeat(me, id)).toMatchObject({ active: true, seconds: 240 });
      t.clock.advance(4 * MIN);
      await goals.heartbeat(me, id);
      t.clock.advance(6 * MIN);
      await expect(goals.heartbeat(me, id)).rejects.toMatchObject({ status: 409, code: 'LEARNING_SESSION_ENDED' });
      const ended = (await goals.listSessions(me, {})).items.find((s) => s.id === id)!;
      expect(ended).toMatchObject({ active: false, endReason: 'timeout', seconds: 480, minutes: 8, endedAt: new Date(start + 8 * MIN).toISOString() });
      expect(await goals.stopSession(me, id)).toEqual(ended); // idempotent, unchanged

      // Stop counts up to now when the last heartbeat is recent, up to the heartbeat otherwise.
      const second = await goals.startSession(me, { courseId });
      t.clock.advance(3 * MIN);
      await goals.heartbeat(me, second.id);
      t.clock.advance(2 * MIN);
      expect(await goals.stopSession(me, second.id)).toMatchObject({ endReason: 'stopped', seconds: 300 });
      const third = await goals.startSession(me, { courseId });
      t.clock.advance(1 * MIN);
      await goals.heartbeat(me, third.id);
      t.clock.advance(20 * MIN);
      expect(await goals.stopSession(me, third.id)).toMatchObject({ endReason: 'timeout', seconds: 60 });

      // An abandoned session is closed by the scheduled job, at its last heartbeat.
      const abandoned = await goals.startSession(me, { courseId });
      t.clock.advance(2 * MIN);
      await goals.heartbeat(me, abandoned.id);
      expect(await goals.closeAbandoned()).toBe(0);
      t.clock.advance(10 * MIN);
      await t.learning.jobs!['learning.sessions.close-abandoned']!.handle({ id: 'j', name: 'learning.sessions.close-abandoned', payload: {}, attempt: 1, maxAttempts: 1, signal: new AbortController().signal });
      expect((await goals.listSessions(me, { limit: 1 })).items[0]).toMatchObject({ id: abandoned.id, endReason: 'abandoned', seconds: 120 });
      expect(t.learning.schedules).toContainEqual(expect.objectContaining({ job: 'learning.sessions.close-abandoned' }));
      const endedEvents = (await eventsOf(t, 'learning.session.ended')).filter((e) => (e.payload as { userId: string }).userId === student.userId);
      expect(endedEvents.map((e) => (e.payload as { seconds: number }).seconds)).toEqual([480, 300, 60, 120]);
      expect(endedEvents[0]!.scopes).toEqual([`user:${student.userId}`]);

      // 8 + 5 + 1 + 2 = 16 minutes, in progress and in the minutes goal.
      expect((await t.learning.progress.mine(me)).items.find((p) => p.courseId === courseId)?.minutesStudied).toBe(16);
      expect(await goals.getGoal(me, minutesGoal.json().id)).toMatchObject({ status: 'active', progress: { value: 16, percent: 53 } });
      const more = await goals.startSession(me, {});
      for (let i = 0; i < 4; i++) {
        t.clock.advance(4 * MIN);
        await goals.heartbeat(me, more.id);
      }
      await goals.stopSession(me, more.id);
      expect(await goals.getGoal(me, minutesGoal.json().id)).toMatchObject({ progress: { value: 16 } }); // the goal counts its course only
      const courseSession = await goals.startSession(me, { courseId });
      for (let i = 0; i < 4; i++) {
        t.clock.advance(4 * MIN);
        await goals.heartbeat(me, courseSession.id);
      }
      await goals.stopSession(me, courseSession.id);
      expect(await goals.getGoal(me, minutesGoal.json().id)).toMatchObject({ status: 'achieved', progress: { value: 32, percent: 100 } });

      // Lessons and course goals follow lesson completion.
      expect(await goals.getGoal(me, lessonsGoal.id)).toMatchObject({ status: 'active', progress: { value: 0, target: 1, unit: 'lessons' } });
      await t.learning.progress.completeLesson(me, lessonIds[0]!);
      expect(await goals.getGoal(me, lessonsGoal.id)).toMatchObject({ status: 'achieved', progress: { value: 1, percent: 100 } });
      expect(await goals.getGoal(me, courseGoal.id)).toMatchObject({ status: 'achieved', progress: { value: 100, percent: 100 } });

      // A course goal past its date without completion is missed; weekly goals start again each week.
      const late = await goals.createGoal(me, { kind: 'course_by_date', courseId: other.id, dueAt: new Date(t.clock.now().getTime() + 60 * MIN).toISOString() });
      expect(late.status).toBe('active');
      t.clock.advance(2 * 60 * MIN);
      expect((await goals.getGoal(me, late.id)).status).toBe('missed');
      t.clock.advance(7 * DAY);
      expect(await goals.getGoal(me, minutesGoal.json().id)).toMatchObject({ status: 'active', progress: { value: 0 } });
      expect((await goals.listGoals(me, { limit: 2 })).nextCursor).not.toBeNull();
      expect((await goals.listGoals(me, {})).items.map((g) => g.id)).toEqual([late.id, courseGoal.id, lessonsGoal.id, minutesGoal.json().id]);
    } finally {
      t.clock.set(start);
    }

    // Goals are their owner's alone; PATCH and DELETE accept If-Match.
    const goalId = (await api(t, student, 'GET', '/learning/goals')).json().items.at(-1).id;
    expect((await api(t, t.otherStudent, 'GET', `/learning/goals/${goalId}`)).json().code).toBe('LEARNING_GOAL_NOT_FOUND');
    expect((await api(t, t.otherStudent, 'DELETE', `/learning/goals/${goalId}`)).statusCode).toBe(404);
    expect((await api(t, student, 'PATCH', `/learning/goals/${goalId}`, { target: 45 }, { 'if-match': '"9"' })).statusCode).toBe(412);
    const patched = await api(t, student, 'PATCH', `/learning/goals/${goalId}`, { target: 45, title: 'More' }, { 'if-match': '"1"' });
    expect(patched.json()).toMatchObject({ target: 45, title: 'More', version: 2 });
    expect(patched.headers.etag).toBe('"2"');
    expect((await api(t, student, 'PATCH', `/learning/goals/${goalId}`, { dueAt: '2030-01-01T00:00:00Z' })).statusCode).toBe(422);
    expect((await api(t, student, 'DELETE', `/learning/goals/${goalId}`)).statusCode).toBe(204);
    expect((await api(t, student, 'GET', `/learning/goals/${goalId}`)).statusCode).toBe(404);
    expect((await api(t, student, 'POST', '/learning/sessions/ses_nope/heartbeat')).statusCode).toBe(404);
    expect((await api(t, null, 'GET', '/learning/goals')).statusCode).toBe(401);
  });

  it('streaks count consecutive UTC days of activity for a learner without a time zone; a 7-day streak is awarded once', async () => {
    const { student, me, lessonIds } = await enrolledStudent(10);
    const start = t.clock.now().getTime();
    let next = 0;
    const complete = () => t.learning.progress.completeLesson(me, lessonIds[next++]!);
    try {
      expect((await api(t, student, 'GET', '/me/streak')).json()).toEqual({ current: 0, longest: 0, today: '2026-11-22', lastActiveDay: null, activeToday: false, timeZone: 'UTC' });
      await complete(); // day 0
      await complete(); // same day: still one day
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 1, longest: 1, activeToday: true });
      t.clock.advance(DAY);
      // Day 1: a 12-minute study session counts; day 2: a 5-minute one does not.
      const long = await t.learning.goals.startSession(me, {});
      for (let i = 0; i < 3; i++) {
        t.clock.advance(4 * MIN);
        await t.learning.goals.heartbeat(me, long.id);
      }
      await t.learning.goals.stopSession(me, long.id);
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 2, activeToday: true });
      t.clock.advance(DAY);
      const short = await t.learning.goals.startSession(me, {});
      t.clock.advance(5 * MIN);
      await t.learning.goals.stopSession(me, short.id);
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 2, activeToday: false }); // yesterday still counts
      t.clock.advance(DAY);
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 0, longest: 2 });
      for (let day = 0; day < 6; day++) {
        await complete();
        t.clock.advance(DAY);
      }
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 6, longest: 6, activeToday: false });
      expect(await awardsOf(student.userId, 'streak_7')).toHaveLength(0);
      await complete();
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 7, longest: 7 });
      t.clock.advance(DAY);
      await complete();
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 8 });
      const awards = await awardsOf(student.userId, 'streak_7');
      expect(awards).toHaveLength(1);
      expect(awards[0]!.scopes).toEqual([`user:${student.userId}`]);
      expect((await t.learning.goals.achievements(me)).items.map((a) => a.achievement)).toEqual(['first_lesson', 'streak_7']);
    } finally {
      t.clock.set(start);
    }
  });

  it('streak days are the learner’s local days: a session ending at 23:32 in Los Angeles counts for that evening, not the UTC day', async () => {
    const { student, me } = await enrolledStudent(0);
    const utcStudent = await enrolledStudent(0);
    expect((await api(t, student, 'PATCH', '/me', { timeZone: 'America/Los_Angeles' })).statusCode).toBe(200);
    // 10:00Z is 02:00 in Los Angeles, the same day.
    expect((await api(t, student, 'GET', '/me/streak')).json()).toEqual({ current: 0, longest: 0, today: '2026-11-22', lastActiveDay: null, activeToday: false, timeZone: 'America/Los_Angeles' });
    const start = t.clock.now().getTime();
    const studyTwelveMinutes = async (who: typeof me) => {
      const session = await t.learning.goals.startSession(who, {});
      for (let i = 0; i < 3; i++) {
        t.clock.advance(4 * MIN);
        await t.learning.goals.heartbeat(who, session.id);
      }
      await t.learning.goals.stopSession(who, session.id);
    };
    try {
      t.clock.set(Date.parse('2026-11-23T07:20:00.000Z')); // 23:20 on 22 November in Los Angeles (UTC−8)
      await studyTwelveMinutes(me);
      t.clock.set(Date.parse('2026-11-23T07:20:00.000Z'));
      await studyTwelveMinutes(utcStudent.me);
      expect(await t.learning.goals.streak(me)).toEqual({ current: 1, longest: 1, today: '2026-11-22', lastActiveDay: '2026-11-22', activeToday: true, timeZone: 'America/Los_Angeles' });
      expect(await t.learning.goals.streak(utcStudent.me)).toEqual({ current: 1, longest: 1, today: '2026-11-23', lastActiveDay: '2026-11-23', activeToday: true, timeZone: 'UTC' });
      // 08:30 the next morning in Los Angeles is 16:30 the same UTC day: a second local day, still one UTC day.
      t.clock.set(Date.parse('2026-11-23T16:30:00.000Z'));
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 1, today: '2026-11-23', activeToday: false });
      await studyTwelveMinutes(me);
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 2, longest: 2, today: '2026-11-23', activeToday: true });
    } finally {
      t.clock.set(start);
    }
  });

  it('weekly goals count weeks from Monday 00:00 in the learner’s zone: Kiritimati (UTC+14) and Los Angeles (UTC−8)', async () => {
    const start = t.clock.now().getTime();
    /** Twelve minutes of study ending at `endsAt`. */
    const study = async (who: ReturnType<typeof studentPrincipal>, endsAt: string) => {
      t.clock.set(Date.parse(endsAt) - 12 * MIN);
      const session = await t.learning.goals.startSession(who, {});
      for (let i = 0; i < 3; i++) {
        t.clock.advance(4 * MIN);
        await t.learning.goals.heartbeat(who, session.id);
      }
      await t.learning.goals.stopSession(who, session.id);
    };
    // Monday 7 December 00:00 local is Sunday 10:00Z in Kiritimati and Monday 08:00Z in Los Angeles: the
    // Sunday-evening session falls in the week before (in Los Angeles, though its UTC day is a Monday),
    // the Monday-morning one in the new week (in Kiritimati, though its UTC day is a Sunday).
    const cases = [
      { zone: 'Pacific/Kiritimati', lastMonday: '2026-11-29T10:00:00.000Z', monday: '2026-12-06T10:00:00.000Z', nextMonday: '2026-12-13T10:00:00.000Z' },
      { zone: 'America/Los_Angeles', lastMonday: '2026-11-30T08:00:00.000Z', monday: '2026-12-07T08:00:00.000Z', nextMonday: '2026-12-14T08:00:00.000Z' },
    ];
    try {
      for (const { zone, lastMonday, monday, nextMonday } of cases) {
        t.clock.set(start); // while the cast's tokens are fresh
        const { student, me } = await enrolledStudent(0);
        expect((await api(t, student, 'PATCH', '/me', { timeZone: zone })).statusCode).toBe(200);
        const goal = await t.learning.goals.createGoal(me, { kind: 'minutes_per_week', target: 20 });
        await study(me, new Date(Date.parse(monday) - 10 * MIN).toISOString()); // Sunday 23:50 local
        expect((await t.learning.goals.getGoal(me, goal.id)).progress, zone).toMatchObject({ value: 12, periodStart: lastMonday, periodEnd: monday });
        t.clock.set(Date.parse(monday));
        expect((await t.learning.goals.getGoal(me, goal.id)).progress, zone).toMatchObject({ value: 0, periodStart: monday, periodEnd: nextMonday });
        await study(me, new Date(Date.parse(monday) + 20 * MIN).toISOString()); // Monday 00:08–00:20 local
        expect((await t.learning.goals.listGoals(me, {})).items[0]!.progress, zone).toMatchObject({ value: 12, periodStart: monday });
      }
    } finally {
      t.clock.set(start);
    }
  });

  it('seven local days in a row earn streak_7 in the learner’s zone, though in UTC days they have gaps', async () => {
    const { student, me, lessonIds } = await enrolledStudent(7);
    expect((await api(t, student, 'PATCH', '/me', { timeZone: 'America/Los_Angeles' })).statusCode).toBe(200);
    const start = t.clock.now().getTime();
    try {
      // Local days 22…28 November, late one evening (23:30 = 07:30Z the next day) and early the next morning
      // (09:00 = 17:00Z): in UTC that is only the 23rd, 25th, 27th and 29th.
      for (let day = 0; day < 7; day++) {
        const instant = day % 2 === 0 ? Date.UTC(2026, 10, 23 + day, 7, 30) : Date.UTC(2026, 10, 22 + day, 17, 0);
        t.clock.set(instant);
        expect(await awardsOf(student.userId, 'streak_7')).toHaveLength(0);
        await t.learning.progress.completeLesson(me, lessonIds[day]!);
      }
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 7, longest: 7, today: '2026-11-28', lastActiveDay: '2026-11-28', activeToday: true });
      expect(await awardsOf(student.userId, 'streak_7')).toHaveLength(1);
      // The next local day, the streak is still alive (yesterday counts) until it is over.
      t.clock.set(Date.UTC(2026, 10, 30, 7, 59)); // 23:59 on the 29th in Los Angeles
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 7, today: '2026-11-29', activeToday: false });
      t.clock.set(Date.UTC(2026, 10, 30, 8, 0)); // midnight: the 30th
      expect(await t.learning.goals.streak(me)).toMatchObject({ current: 0, longest: 7, today: '2026-11-30' });
    } finally {
      t.clock.set(start);
    }
  });

  it('each achievement is awarded exactly once, even when two triggering writes race', async () => {
    const { student, me, courseId, lessonIds } = await enrolledStudent(3);
    await Promise.all(lessonIds.slice(0, 2).map((id) => t.learning.progress.completeLesson(me, id)));
    await t.learning.progress.completeLesson(me, lessonIds[2]!);
    expect(await awardsOf(student.userId, 'first_lesson')).toHaveLength(1);
    expect((await eventsOf(t, 'learning.achievement.awarded')).at(-1)!.payload).toEqual({ userId: student.userId, achievement: 'first_lesson' });

    const attempts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const quiz = (await api(t, t.teacher, 'POST', `/courses/${courseId}/quizzes`, { title: `Q${i}`, status: 'published', required: false })).json();
      const question = (await api(t, t.teacher, 'POST', `/quizzes/${quiz.id}/questions`, { type: 'true_false', prompt: 'Yes?', correctBoolean: true })).json();
      const attempt = (await api(t, student, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
      // The first attempt gets it wrong: no award for a score below full marks.
      await api(t, student, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: question.id, response: { value: i !== 0 } }] });
      attempts.push(attempt.id);
    }
    expect((await api(t, student, 'POST', `/attempts/${attempts[0]}/submit`)).json().score).toBe(0);
    expect(await awardsOf(student.userId, 'perfect_score')).toHaveLength(0);
    const results = await Promise.all(attempts.slice(1).map((id) => api(t, student, 'POST', `/attempts/${id}/submit`)));
    expect(results.map((r) => r.json().score)).toEqual([1, 1]);
    expect(await awardsOf(student.userId, 'perfect_score')).toHaveLength(1);
    const mine = (await api(t, student, 'GET', '/me/achievements')).json();
    expect(mine.items.map((a: { achievement: string }) => a.achievement).sort()).toEqual(['first_lesson', 'perfect_score']);
    expect((await api(t, t.otherStudent, 'GET', '/me/achievements')).json()).toEqual({ items: [] });
  });
});

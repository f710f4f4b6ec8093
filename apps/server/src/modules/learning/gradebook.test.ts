import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { signUp } from '../../../test/support/identity.js';
import { api, createCourse, createLesson, learningApp, studentPrincipal, type LearningTestApp } from '../../../test/support/learning.js';

const SINGLE = { type: 'single', prompt: '2+2?', options: [{ id: 'a', text: '3' }, { id: 'b', text: '4' }], correctOptionIds: ['b'] };

describeEachDialect('learning: gradebook', (dialect) => {
  let t: LearningTestApp;
  let course: { id: string; slug: string };
  let quizzes: { id: string; question: string }[];
  let formulaStudent: Awaited<ReturnType<typeof signUp>>;

  async function attempt(user: LearningTestApp['student'], quiz: { id: string; question: string }, optionId: string) {
    const started = await api(t, user, 'POST', `/quizzes/${quiz.id}/attempts`);
    expect(started.statusCode, started.body).toBe(201);
    expect((await api(t, user, 'PATCH', `/attempts/${started.json().id}`, { answers: [{ questionId: quiz.question, response: { optionId } }] })).statusCode).toBe(200);
    expect((await api(t, user, 'POST', `/attempts/${started.json().id}/submit`)).statusCode).toBe(200);
  }

  beforeAll(async () => {
    t = await learningApp({ dialect });
    formulaStudent = await signUp(t, { displayName: '=HYPERLINK("http://evil.example")' });
    course = await createCourse(t, t.teacher, { title: 'Graded course' });
    await createLesson(t, t.teacher, course.id, { title: 'Only lesson' });
    quizzes = [];
    for (const title of ['Week 1', '=SUM(A1:A9)', 'Week 1']) {
      const quiz = (await api(t, t.teacher, 'POST', `/courses/${course.id}/quizzes`, { title, status: 'published', required: false })).json();
      const question = (await api(t, t.teacher, 'POST', `/quizzes/${quiz.id}/questions`, SINGLE)).json();
      quizzes.push({ id: quiz.id, question: question.id });
    }
    for (const user of [t.student, t.otherStudent, formulaStudent]) expect((await api(t, user, 'POST', `/courses/${course.id}/enrollments`, {})).statusCode).toBe(201);
    // The student: wrong then right on quiz 1 (best 1), wrong on quiz 2; the lesson done.
    await attempt(t.student, quizzes[0]!, 'a');
    await attempt(t.student, quizzes[0]!, 'b');
    await attempt(t.student, quizzes[1]!, 'a');
    const lessons = (await api(t, t.student, 'GET', `/courses/${course.id}/lessons`)).json().items;
    expect((await api(t, t.student, 'POST', `/lessons/${lessons[0].id}/complete`)).statusCode).toBe(200);
    // The other student withdraws: not in the gradebook.
    expect((await api(t, t.otherStudent, 'DELETE', `/courses/${course.id}/enrollments/me`)).statusCode).toBe(204);
  }, 180_000);
  afterAll(() => t?.destroy());

  it('CSV: one row per active student, best scores as in /me/progress, formulas neutralised', async () => {
    const res = await api(t, t.teacher, 'GET', `/courses/${course.id}/gradebook`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="gradebook-${course.slug}-\\d{4}-\\d{2}-\\d{2}\\.csv"$`));
    const [header, ...rows] = parse(res.body) as string[][];
    expect(header).toEqual(['userId', 'displayName', 'Week 1', "'=SUM(A1:A9)", `Week 1 (${quizzes[2]!.id})`, 'percent', 'completed', 'completedAt']);
    const byUser = new Map(rows.map((r) => [r[0], r]));
    expect([...byUser.keys()].sort()).toEqual([t.student.userId, formulaStudent.userId].sort());
    const progress = (await api(t, t.student, 'GET', '/me/progress')).json().items.find((p: { courseId: string }) => p.courseId === course.id);
    expect(byUser.get(t.student.userId)).toEqual([t.student.userId, 'Student S', '1', '0', '', String(progress.percent), progress.completed ? 'yes' : 'no', progress.completedAt ?? '']);
    expect(progress.quizzes.map((q: { bestScore: number | null }) => q.bestScore)).toEqual([1, 0, null]);
    expect(byUser.get(formulaStudent.userId)!.slice(1, 2)).toEqual(['\'=HYPERLINK("http://evil.example")']);
  });

  it('JSON when Accept asks for it, with the same numbers', async () => {
    const res = await api(t, t.teacher, 'GET', `/courses/${course.id}/gradebook`, undefined, { accept: 'text/csv;q=0.5, application/json' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = res.json();
    expect(body.quizzes).toEqual(quizzes.map((q, i) => ({ quizId: q.id, title: ['Week 1', '=SUM(A1:A9)', 'Week 1'][i] })));
    const mine = body.students.find((s: { userId: string }) => s.userId === t.student.userId);
    expect(mine.quizzes).toEqual([
      { quizId: quizzes[0]!.id, bestScore: 1, maxScore: 1, attempts: 2, passed: true },
      { quizId: quizzes[1]!.id, bestScore: 0, maxScore: 1, attempts: 1, passed: false },
      { quizId: quizzes[2]!.id, bestScore: null, maxScore: null, attempts: 0, passed: false },
    ]);
    expect(body.students).toHaveLength(2);
    // A wildcard Accept keeps the default, CSV.
    expect((await api(t, t.teacher, 'GET', `/courses/${course.id}/gradebook`, undefined, { accept: '*/*' })).headers['content-type']).toBe('text/csv; charset=utf-8');
  });

  it('only the course’s teachers and admins read it', async () => {
    expect((await api(t, t.admin, 'GET', `/courses/${course.id}/gradebook`)).statusCode).toBe(200);
    expect((await api(t, t.student, 'GET', `/courses/${course.id}/gradebook`)).statusCode).toBe(403);
    expect((await api(t, t.otherTeacher, 'GET', `/courses/${course.id}/gradebook`)).statusCode).toBe(403);
    expect((await api(t, null, 'GET', `/courses/${course.id}/gradebook`)).statusCode).toBe(401);
    expect((await api(t, t.teacher, 'GET', '/courses/crs_missing/gradebook')).statusCode).toBe(404);
  });

  it('pages through a roster larger than one database page', async () => {
    const big = await createCourse(t, t.teacher, { title: 'Big class' });
    const ids = Array.from({ length: 230 }, (_, i) => `usr_bulk${String(i).padStart(3, '0')}`);
    for (const userId of ids) await t.learning.enrollments.enroll(studentPrincipal(userId), big.id, {});
    const res = await api(t, t.teacher, 'GET', `/courses/${big.id}/gradebook`);
    const [, ...rows] = parse(res.body) as string[][];
    expect(rows.map((r) => r[0]).sort()).toEqual(ids);
  });
});

import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { api, createCourse, createLesson, eventsOf, learningApp, type LearningTestApp } from '../../../test/support/learning.js';

describeEachDialect('learning: progress, completion and certificates', (dialect) => {
  let t: LearningTestApp;
  beforeAll(async () => {
    t = await learningApp({ dialect });
  }, 180_000);
  afterAll(() => t?.destroy());

  it('lessons and required quizzes complete a course; the roster shows the student’s own numbers; certificates verify publicly', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Completable' });
    const one = await createLesson(t, t.teacher, course.id, { title: 'One', minutes: 10 });
    const two = await createLesson(t, t.teacher, course.id, { title: 'Two', minutes: 5, prerequisiteLessonIds: [one.id] });
    await createLesson(t, t.teacher, course.id, { title: 'Optional', required: false });
    await createLesson(t, t.teacher, course.id, { title: 'Draft', status: 'draft' });
    const quiz = (await api(t, t.teacher, 'POST', `/courses/${course.id}/quizzes`, { title: 'Final', status: 'published', passingScore: 100 })).json();
    const question = (await api(t, t.teacher, 'POST', `/quizzes/${quiz.id}/questions`, { type: 'true_false', prompt: 'Done?', correctBoolean: true })).json();
    expect((await api(t, t.student, 'POST', `/lessons/${one.id}/complete`)).statusCode).toBe(403); // not enrolled yet
    await api(t, t.student, 'POST', `/courses/${course.id}/enrollments`, {});

    const early = await api(t, t.student, 'POST', `/lessons/${two.id}/complete`);
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('LEARNING_PREREQUISITES');
    const first = await api(t, t.student, 'POST', `/lessons/${one.id}/complete`);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ lessonsCompleted: 1, lessonsRequired: 2, quizzesPassed: 0, quizzesRequired: 1, percent: 33, minutesOfLessonsCompleted: 10, completed: false });
    expect((await api(t, t.student, 'POST', `/lessons/${one.id}/complete`)).json().lessonsCompleted).toBe(1);
    expect((await eventsOf(t, 'learning.lesson.completed')).filter((e) => (e.payload as { lessonId: string }).lessonId === one.id)).toHaveLength(1);
    expect((await api(t, t.teacher, 'POST', `/lessons/${one.id}/complete`)).statusCode).toBe(403);
    expect((await api(t, t.student, 'POST', `/lessons/${two.id}/complete`)).json()).toMatchObject({ lessonsCompleted: 2, completed: false });

    // A failed attempt does not complete it; a passed one does, with a certificate.
    const failed = (await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
    await api(t, t.student, 'PATCH', `/attempts/${failed.id}`, { answers: [{ questionId: question.id, response: { value: false } }] });
    expect((await api(t, t.student, 'POST', `/attempts/${failed.id}/submit`)).json().passed).toBe(false);
    const passed = (await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
    await api(t, t.student, 'PATCH', `/attempts/${passed.id}`, { answers: [{ questionId: question.id, response: { value: true } }] });
    expect((await api(t, t.student, 'POST', `/attempts/${passed.id}/submit`)).json().passed).toBe(true);

    const mine = (await api(t, t.student, 'GET', '/me/progress')).json().items.find((p: { courseId: string }) => p.courseId === course.id);
    expect(mine).toMatchObject({ completed: true, percent: 100, quizzesPassed: 1, quizzes: [{ quizId: quiz.id, attempts: 2, bestScore: 1, lastScore: 1, maxScore: 1, passed: true }] });
    expect(mine.certificateCode).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    const completed = (await eventsOf(t, 'learning.course.completed')).at(-1)!;
    expect(completed.payload).toEqual({ courseId: course.id, userId: t.student.userId, courseTitle: 'Completable', certificateCode: mine.certificateCode });

    const roster = (await api(t, t.teacher, 'GET', `/courses/${course.id}/enrollments`)).json();
    expect(roster.items[0].progress).toEqual(mine);

    const cert = await api(t, null, 'GET', `/certificates/${mine.certificateCode}`);
    expect(cert.statusCode).toBe(200);
    expect(cert.json()).toMatchObject({ courseId: course.id, courseTitle: 'Completable', userId: t.student.userId, displayName: 'Student S' });
    expect((await api(t, null, 'GET', '/certificates/NOPE-NOPE-NOPE-NOPE')).statusCode).toBe(404);

    // The completed course unlocks a course that requires it.
    const next = await createCourse(t, t.teacher, { title: 'Sequel', prerequisiteCourseIds: [course.id] });
    const refused = await api(t, t.otherStudent, 'POST', `/courses/${next.id}/enrollments`, {});
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('LEARNING_PREREQUISITES');
    expect((await api(t, t.student, 'POST', `/courses/${next.id}/enrollments`, {})).statusCode).toBe(201);
    expect((await api(t, null, 'GET', '/me/progress')).statusCode).toBe(401);
  });
  it('completion counts only the student’s own passes of published required quizzes, and a course that requires nothing never completes', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Rule' });
    const quiz = (await api(t, t.teacher, 'POST', `/courses/${course.id}/quizzes`, { title: 'Required', status: 'published', required: true })).json();
    const question = (await api(t, t.teacher, 'POST', `/quizzes/${quiz.id}/questions`, { type: 'true_false', prompt: 'Done?', correctBoolean: true })).json();
    // Still a draft: it will not count.
    await api(t, t.teacher, 'POST', `/courses/${course.id}/quizzes`, { title: 'Draft', required: true });
    const pass = async (who: typeof t.student) => {
      const attempt = (await api(t, who, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
      await api(t, who, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: question.id, response: { value: true } }] });
      expect((await api(t, who, 'POST', `/attempts/${attempt.id}/submit`)).json().passed).toBe(true);
    };
    const completedBy = async (userId: string) => (await eventsOf(t, 'learning.course.completed')).filter((e) => (e.payload as { courseId: string; userId: string }).courseId === course.id && (e.payload as { userId: string }).userId === userId);
    for (const who of [t.student, t.otherStudent]) await api(t, who, 'POST', `/courses/${course.id}/enrollments`, {});
    await pass(t.otherStudent);
    expect(await completedBy(t.otherStudent.userId)).toHaveLength(1);
    expect(await completedBy(t.student.userId)).toHaveLength(0);
    await pass(t.student);
    await pass(t.student);
    expect(await completedBy(t.student.userId)).toHaveLength(1);

    const empty = await createCourse(t, t.teacher, { title: 'Nothing required' });
    const optional = (await api(t, t.teacher, 'POST', `/courses/${empty.id}/quizzes`, { title: 'Optional', status: 'published', required: false })).json();
    const q = (await api(t, t.teacher, 'POST', `/quizzes/${optional.id}/questions`, { type: 'true_false', prompt: 'Done?', correctBoolean: true })).json();
    await api(t, t.student, 'POST', `/courses/${empty.id}/enrollments`, {});
    const attempt = (await api(t, t.student, 'POST', `/quizzes/${optional.id}/attempts`)).json();
    await api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: q.id, response: { value: true } }] });
    expect((await api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`)).json().passed).toBe(true);
    expect((await api(t, t.student, 'GET', '/me/progress')).json().items.find((p: { courseId: string }) => p.courseId === empty.id)).toMatchObject({ completed: false });
  });

  it('the last lessons completed at the same moment both count, and the course gets exactly one certificate', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Raced' });
    const lessons = [];
    for (const title of ['A', 'B', 'C']) lessons.push(await createLesson(t, t.teacher, course.id, { title }));
    await api(t, t.otherStudent, 'POST', `/courses/${course.id}/enrollments`, {});
    const results = await Promise.all(lessons.map((lesson) => api(t, t.otherStudent, 'POST', `/lessons/${lesson.id}/complete`)));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const progress = (await api(t, t.otherStudent, 'GET', '/me/progress')).json().items.find((p: { courseId: string }) => p.courseId === course.id);
    expect(progress).toMatchObject({ lessonsCompleted: 3, completed: true });
    const completions = (await eventsOf(t, 'learning.course.completed')).filter((e) => (e.payload as { courseId: string }).courseId === course.id);
    expect(completions).toHaveLength(1);
  });

  it('a passing quiz submitted at the same moment as the last lesson completes the course, every time, with one certificate', async () => {
    const rounds = [];
    for (let i = 0; i < 20; i++) {
      const course = await createCourse(t, t.teacher, { title: `Raced quiz ${i}` });
      const lesson = await createLesson(t, t.teacher, course.id, { title: 'Last lesson' });
      const quiz = (await api(t, t.teacher, 'POST', `/courses/${course.id}/quizzes`, { title: 'Final', status: 'published', required: true })).json();
      const question = (await api(t, t.teacher, 'POST', `/quizzes/${quiz.id}/questions`, { type: 'true_false', prompt: 'Done?', correctBoolean: true })).json();
      expect((await api(t, t.otherStudent, 'POST', `/courses/${course.id}/enrollments`, {})).statusCode).toBe(201);
      const attempt = (await api(t, t.otherStudent, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
      await api(t, t.otherStudent, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: question.id, response: { value: true } }] });
      rounds.push({ courseId: course.id, lessonId: lesson.id, attemptId: attempt.id });
    }
    // The event log's append lock (PostgreSQL) happens to serialise any two transactions that append
    // events; without it here, the test checks the lock the module relies on: the enrollment's.
    const eventLock = vi.spyOn(t.core.database.dialect, 'lockEventAppend').mockResolvedValue();
    try {
      for (const { lessonId, attemptId } of rounds) {
        const [completed, submitted] = await Promise.all([api(t, t.otherStudent, 'POST', `/lessons/${lessonId}/complete`), api(t, t.otherStudent, 'POST', `/attempts/${attemptId}/submit`)]);
        expect([completed.statusCode, submitted.statusCode, submitted.json().passed]).toEqual([200, 200, true]);
      }
    } finally {
      eventLock.mockRestore();
    }
    const progress = (await api(t, t.otherStudent, 'GET', '/me/progress')).json().items;
    const completions = await eventsOf(t, 'learning.course.completed');
    for (const { courseId } of rounds) {
      expect(progress.find((p: { courseId: string }) => p.courseId === courseId), courseId).toMatchObject({ lessonsCompleted: 1, quizzesPassed: 1, completed: true });
      expect(completions.filter((e) => (e.payload as { courseId: string }).courseId === courseId)).toHaveLength(1);
    }
  });
});

import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { api, createCourse, createLesson, learningApp, type LearningTestApp } from '../../../test/support/learning.js';
import { operationsOf, requestsFor, resolver, urlOf, type Operation } from '../../../test/hardening/openapi-fuzz.js';

const PREFIXES = ['/api/v1/courses', '/api/v1/lessons', '/api/v1/quizzes', '/api/v1/questions', '/api/v1/attempts', '/api/v1/me/progress', '/api/v1/me/course-invitations', '/api/v1/learning/statements', '/api/v1/certificates'];

/**
 * The OpenAPI fuzzer's generated requests, sent by the course's teacher and an enrolled student at
 * real resources (the generic fuzzer's caller holds no course permission, so it mostly meets 403s):
 * no 5xx, and nothing invalid accepted.
 */
describeEachDialect('learning: generated requests from the course’s own teacher and student', (dialect) => {
  let t: LearningTestApp;
  let ids: Record<string, string>;
  beforeAll(async () => {
    t = await learningApp({ dialect });
    const course = await createCourse(t, t.teacher, { title: 'Fuzzed course' });
    const lesson = await createLesson(t, t.teacher, course.id);
    await api(t, t.student, 'POST', `/courses/${course.id}/enrollments`, {});
    const quiz = (await api(t, t.teacher, 'POST', `/courses/${course.id}/quizzes`, { title: 'Fuzzed quiz', status: 'published' })).json();
    const question = (await api(t, t.teacher, 'POST', `/quizzes/${quiz.id}/questions`, { type: 'matching', prompt: 'm', pairs: [{ left: { id: 'a', text: 'A' }, right: { id: 'b', text: 'B' } }, { left: { id: 'c', text: 'C' }, right: { id: 'd', text: 'D' } }] })).json();
    await api(t, t.teacher, 'POST', `/quizzes/${quiz.id}/questions`, { type: 'free_text', prompt: 'f' });
    const attempt = (await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
    ids = { courses: course.id, lessons: lesson.id, quizzes: quiz.id, questions: question.id, attempts: attempt.id, userId: t.student.userId };
  }, 180_000);
  afterAll(() => t?.destroy());

  it('never answers 5xx, never accepts invalid input', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const resolve = resolver(document);
    // Deletions last, so that the other operations meet live resources.
    const operations = operationsOf(document)
      .filter((op: Operation) => PREFIXES.some((p) => op.path.startsWith(p)))
      .sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    expect(operations.length).toBeGreaterThan(25);
    const failures: string[] = [];
    for (const op of operations) {
      const resource = op.path.split('/')[3]!;
      for (const user of [t.teacher, t.student]) {
        await fc.assert(
          fc.asyncProperty(requestsFor(op, resolve), async (r) => {
            if (!r.mutation.startsWith('pathParams')) r.pathParams = { ...r.pathParams, id: ids[resource] ?? 'x', ...(r.pathParams.userId !== undefined ? { userId: ids.userId! } : {}) };
            const hasBody = r.rawBody !== undefined || r.body !== undefined;
            const res = await t.app.inject({
              method: op.method as 'GET',
              url: urlOf(op, r),
              headers: { authorization: `Bearer ${user.accessToken}`, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
              payload: r.rawBody ?? (r.body === undefined ? undefined : JSON.stringify(r.body)),
            });
            const where = `${op.method} ${urlOf(op, r).slice(0, 100)} [${r.mutation}] → ${res.statusCode}`;
            if (res.statusCode >= 500) failures.push(`${where}: ${res.body.slice(0, 300)}`);
            if (!r.valid && res.statusCode < 300) failures.push(`${where}: accepted invalid input`);
          }),
          { numRuns: 25, seed: 20261201 },
        );
      }
    }
    expect(failures).toEqual([]);
  }, 600_000);
});

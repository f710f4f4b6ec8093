import type { LightMyRequestResponse } from 'fastify';
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createCourse, createLesson, learningApp, type LearningTestApp } from '../../../test/support/learning.js';
import { isTransactionControl, recordStatements } from '../../../test/support/statements.js';

/**
 * Quiz submissions are the hot write path (issue #4: 1,000 per second on SQLite), and their cost is
 * the number of statements each request runs on the one SQLite connection. This suite counts them
 * at the driver (every better-sqlite3 statement run, BEGIN and COMMIT included), so it runs on
 * SQLite only; the behaviour itself is tested on both dialects in quizzes.test.ts.
 */
const executed = recordStatements();

/** Streak days and achievements (activity.ts) ride on a submission but are counted by their own tests. */
const ACTIVITY = /"(learning_activity_day|learning_achievement|identity_user)"/;

/** The statements `request` ran, without the activity hooks'. */
async function statementsOf(request: () => Promise<LightMyRequestResponse>, status: number) {
  executed.seen.length = 0;
  const res = await request();
  expect(res.statusCode, res.body).toBe(status);
  return { res, statements: executed.seen.splice(0).filter((sql) => !ACTIVITY.test(sql) && !isTransactionControl(sql)) };
}

/** Reads of `table` that come after the request first wrote it. */
const rereads = (statements: string[], table: string) => {
  const firstWrite = statements.findIndex((sql) => new RegExp(`^(insert into|update) "${table}"`).test(sql));
  return firstWrite < 0 ? [] : statements.slice(firstWrite + 1).filter((sql) => sql.startsWith('select') && sql.includes(`"${table}"`));
};

describe('a quiz submission runs few statements (sqlite)', () => {
  let t: LearningTestApp;
  let quizId: string;
  const rightAnswers: Record<string, unknown> = {};
  beforeAll(async () => {
    t = await learningApp({ dialect: 'sqlite' });
    const courseId = (await createCourse(t, t.teacher, { title: 'Statements' })).id;
    expect((await api(t, t.student, 'POST', `/courses/${courseId}/enrollments`, {})).statusCode).toBe(201);
    const quiz = await api(t, t.teacher, 'POST', `/courses/${courseId}/quizzes`, { title: 'Five questions', status: 'published', passingScore: 60, required: true });
    quizId = quiz.json().id;
    // The benchmark's quiz: five auto-scored questions.
    const questions = [
      [{ type: 'single', prompt: 'Which?', options: [{ id: 'a', text: 'A' }, { id: 'b', text: 'B' }], correctOptionIds: ['b'] }, { optionId: 'b' }],
      [{ type: 'multiple', prompt: 'Which?', points: 2, options: [{ id: 'a', text: 'A' }, { id: 'b', text: 'B' }, { id: 'c', text: 'C' }], correctOptionIds: ['a', 'c'] }, { optionIds: ['a', 'c'] }],
      [{ type: 'true_false', prompt: 'True?', correctBoolean: true }, { value: true }],
      [{ type: 'numeric', prompt: '7 × 6?', correctNumber: 42, tolerance: 0 }, { value: 42 }],
      [{ type: 'short_text', prompt: 'Our planet?', acceptedAnswers: ['Earth'], match: 'case_insensitive' }, { text: 'earth' }],
    ] as const;
    for (const [question, right] of questions) rightAnswers[(await api(t, t.teacher, 'POST', `/quizzes/${quizId}/questions`, question)).json().id] = right;
  }, 180_000);
  afterAll(async () => {
    executed.restore();
    await t?.destroy();
  });

  it('start, save five answers and submit: 6, 4 and 7 statements, and nothing written is read back', async () => {
    for (const round of [1, 2]) {
      const start = await statementsOf(() => api(t, t.student, 'POST', `/quizzes/${quizId}/attempts`), 201);
      const attempt = start.res.json() as { id: string; questions: Array<{ id: string }> };
      const answers = attempt.questions.map((q) => ({ questionId: q.id, response: rightAnswers[q.id] }));
      const save = await statementsOf(() => api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers }), 200);
      const submit = await statementsOf(() => api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`), 200);
      expect(submit.res.json()).toMatchObject({ status: 'graded', score: 6, maxScore: 6, passed: true, number: round });
      // The first full marks also award an achievement (and its event): count a later attempt.
      if (round === 1) continue;

      // Each in one transaction (its begin, savepoint and commit are not counted).
      // Access (one join), the earlier attempts' count and open one, questions, the attempt, its event (2).
      expect(start.statements).toHaveLength(6);
      // The attempt, its questions with their answers (one join), one upsert for all answers, version check.
      expect(save.statements).toHaveLength(4);
      // The attempt with its quiz, its questions with their answers, one write of all points, the
      // attempt, its two events (one insert each for events and scopes), the completion check (one read).
      expect(submit.statements).toHaveLength(7);
      // The earlier attempts are counted, not loaded (a student may have many, each with its layout).
      expect(start.statements.filter((sql) => sql.startsWith('select * from "learning_attempt"'))).toEqual([]);
      expect(save.statements.filter((sql) => sql.startsWith('insert into "learning_answer"'))).toHaveLength(1);
      expect(submit.statements.filter((sql) => sql.startsWith('insert into "learning_answer"'))).toHaveLength(1);
      for (const { statements } of [start, save, submit]) {
        expect(rereads(statements, 'learning_answer')).toEqual([]);
        expect(statements.filter((sql) => /^select .* from "learning_attempt"( as "a")? .*where "(a"\.")?id" = \?$/.test(sql))).toHaveLength(statements === start.statements ? 0 : 1);
      }
    }
  });

  it('start, then submit with the five answers: 6 and 7 statements, the answers written once with their points', async () => {
    for (let round = 0; round < 2; round++) {
      const start = await statementsOf(() => api(t, t.student, 'POST', `/quizzes/${quizId}/attempts`), 201);
      const attempt = start.res.json() as { id: string; questions: Array<{ id: string }> };
      const answers = attempt.questions.map((q) => ({ questionId: q.id, response: rightAnswers[q.id] }));
      const submit = await statementsOf(() => api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`, { answers }), 200);
      expect(submit.res.json()).toMatchObject({ status: 'graded', score: 6, maxScore: 6, passed: true });
      if (round === 0) continue;
      // As a submission after a save: the attempt with its quiz, its questions with their answers, one
      // upsert of every answer with its points, the attempt, its two events, the completion check.
      expect(submit.statements).toHaveLength(7);
      expect(submit.statements.filter((sql) => sql.startsWith('insert into "learning_answer"'))).toHaveLength(1);
      expect(rereads(submit.statements, 'learning_answer')).toEqual([]);
    }
  });

  it('while a required lesson is not completed, the completion check after a passing submission is still one read', async () => {
    const courseId = (await createCourse(t, t.teacher, { title: 'With a lesson' })).id;
    await createLesson(t, t.teacher, courseId, { title: 'Required reading', required: true });
    expect((await api(t, t.student, 'POST', `/courses/${courseId}/enrollments`, {})).statusCode).toBe(201);
    const quiz = (await api(t, t.teacher, 'POST', `/courses/${courseId}/quizzes`, { title: 'One question', status: 'published', passingScore: 60, required: true })).json();
    const question = (await api(t, t.teacher, 'POST', `/quizzes/${quiz.id}/questions`, { type: 'true_false', prompt: 'True?', correctBoolean: true })).json();
    for (const round of [1, 2]) {
      const attempt = (await statementsOf(() => api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`), 201)).res.json() as { id: string };
      await statementsOf(() => api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: question.id, response: { value: true } }] }), 200);
      const submit = await statementsOf(() => api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`), 200);
      expect(submit.res.json()).toMatchObject({ status: 'graded', passed: true, number: round });
      if (round === 1) continue;
      // As above: the one read finds the lesson left, and no certificate is written.
      expect(submit.statements).toHaveLength(7);
      expect(submit.statements.filter((sql) => sql.startsWith('insert into "learning_certificate"'))).toEqual([]);
    }
  });

  it('answers are kept by attempt only (no index by question, whose pages a submission scattered), and a regrade reaches them by key', async () => {
    const { db } = t.core.database;
    const indexes = await db.executeQuery<{ name: string }>(CompiledQuery.raw(`select name from sqlite_master where type = 'index' and tbl_name = 'learning_answer'`));
    expect(indexes.rows.map((r) => r.name)).toEqual(['sqlite_autoindex_learning_answer_1']);

    const trueFalse = Object.keys(rightAnswers).find((id) => (rightAnswers[id] as { value?: unknown }).value === true)!;
    executed.seen.length = 0;
    expect((await api(t, t.teacher, 'PATCH', `/questions/${trueFalse}`, { correctBoolean: false })).statusCode).toBe(200);
    const find = executed.seen.find((sql) => sql.startsWith('select "t".* from "learning_attempt" as "t"'))!;
    const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${find}`, ['quiz', 'open', 'question']));
    const details = plan.rows.map((r) => r.detail);
    expect(details.some((d) => /^SEARCH t USING INDEX learning_attempt_quiz_user \(quiz_id=\?\)/.test(d)), details.join('; ')).toBe(true);
    expect(details.some((d) => /^SEARCH a (EXISTS )?USING (COVERING )?INDEX sqlite_autoindex_learning_answer_1 \(attempt_id=\? AND question_id=\?\)/.test(d)), details.join('; ')).toBe(true);
    expect(details.filter((d) => d.startsWith('SCAN'))).toEqual([]);
  });
});

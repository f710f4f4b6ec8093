import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { api, createCourse, learningApp, studentPrincipal, type LearningTestApp } from '../../../test/support/learning.js';
import { correlation } from './item-analysis.js';

const QUESTIONS = [
  { type: 'single', prompt: 'Q1', options: [{ id: 'a', text: 'A' }, { id: 'b', text: 'B' }, { id: 'c', text: 'C' }], correctOptionIds: ['b'] },
  { type: 'true_false', prompt: 'Q2', correctBoolean: true },
  { type: 'multiple', prompt: 'Q3', points: 2, options: [{ id: 'p', text: 'P' }, { id: 'q', text: 'Q' }, { id: 'r', text: 'R' }], correctOptionIds: ['p', 'q'] },
];

describe('correlation', () => {
  it('is undefined without two pairs or without variation', () => {
    expect(correlation([1], [2])).toBeNull();
    expect(correlation([1, 1, 1], [0, 1, 2])).toBeNull();
    expect(correlation([0, 1], [5, 5])).toBeNull();
    expect(correlation([0, 1, 2], [0, 2, 4])).toBeCloseTo(1, 12);
    expect(correlation([0, 1, 2], [4, 2, 0])).toBeCloseTo(-1, 12);
  });
});

describeEachDialect('learning: item analysis', (dialect) => {
  let t: LearningTestApp;
  let quizId: string;
  let ids: string[];

  /** One attempt by `userId`, answering the questions with these responses (undefined: unanswered), submitted. */
  async function attempt(userId: string, responses: Array<object | undefined>) {
    const who = studentPrincipal(userId);
    const started = await t.learning.quizzes.start(who, quizId);
    const answers = responses.flatMap((response, i) => (response ? [{ questionId: ids[i]!, response }] : []));
    if (answers.length) await t.learning.quizzes.saveAnswers(who, started.id, { answers } as never);
    const submitted = await t.learning.quizzes.submit(who, started.id);
    expect(submitted.status).toBe('graded');
    return submitted;
  }

  beforeAll(async () => {
    t = await learningApp({ dialect });
    const course = await createCourse(t, t.teacher, { title: 'Analysed course' });
    quizId = (await api(t, t.teacher, 'POST', `/courses/${course.id}/quizzes`, { title: 'Analysed quiz', status: 'published' })).json().id;
    ids = [];
    for (const q of QUESTIONS) ids.push((await api(t, t.teacher, 'POST', `/quizzes/${quizId}/questions`, q)).json().id);
    for (const n of [1, 2, 3, 4]) await t.learning.enrollments.enroll(studentPrincipal(`usr_item${n}`), course.id, {});
    // An earlier, all-wrong attempt of student 1: only the latest graded attempt counts.
    await attempt('usr_item1', [{ optionId: 'a' }, { value: false }, { optionIds: ['r'] }]);
    expect((await attempt('usr_item1', [{ optionId: 'b' }, { value: true }, { optionIds: ['p', 'q'] }])).score).toBe(4);
    expect((await attempt('usr_item2', [{ optionId: 'b' }, { value: false }, { optionIds: ['p'] }])).score).toBe(2);
    expect((await attempt('usr_item3', [{ optionId: 'a' }, { value: true }, { optionIds: ['p', 'r'] }])).score).toBe(1);
    expect((await attempt('usr_item4', [{ optionId: 'c' }, { value: false }, undefined])).score).toBe(0);
    // Student 2's open attempt is not graded: it does not count.
    await t.learning.quizzes.start(studentPrincipal('usr_item2'), quizId);
  }, 180_000);
  afterAll(() => t?.destroy());

  it('matches the hand-computed numbers', async () => {
    const res = await api(t, t.teacher, 'GET', `/quizzes/${quizId}/item-analysis`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ quizId, title: 'Analysed quiz', attemptsAnalysed: 4, method: 'point-biserial' });
    const [q1, q2, q3] = body.items;
    // Q1: item 1,1,0,0 against rest 3,1,1,0 → r = 1.5 / √4.75.
    expect(q1).toEqual({
      questionId: ids[0], type: 'single', prompt: 'Q1', points: 1, attempts: 4, answered: 4, correctShare: 0.5, meanScore: 0.5, discrimination: 0.6882,
      options: [
        { optionId: 'a', text: 'A', correct: false, count: 1, share: 0.25 },
        { optionId: 'b', text: 'B', correct: true, count: 2, share: 0.5 },
        { optionId: 'c', text: 'C', correct: false, count: 1, share: 0.25 },
      ],
    });
    // Q2: item 1,0,1,0 against rest 3,2,0,0 → r = 0.5 / √6.75; no options for true/false.
    expect(q2).toEqual({ questionId: ids[1], type: 'true_false', prompt: 'Q2', points: 1, attempts: 4, answered: 4, correctShare: 0.5, meanScore: 0.5, discrimination: 0.1925 });
    // Q3 (2 points, partial credit): item 2,1,0,0 against rest 2,1,1,0 → r = 2 / √5.5; student 4 left it unanswered.
    expect(q3).toMatchObject({ points: 2, attempts: 4, answered: 3, correctShare: 0.25, meanScore: 0.75, discrimination: 0.8528 });
    expect(q3.options.map((o: { optionId: string; count: number; correct: boolean }) => [o.optionId, o.count, o.correct])).toEqual([['p', 3, true], ['q', 1, true], ['r', 1, false]]);
  });

  it('only the course’s teachers and admins see it', async () => {
    expect((await api(t, t.admin, 'GET', `/quizzes/${quizId}/item-analysis`)).statusCode).toBe(200);
    expect((await api(t, t.student, 'GET', `/quizzes/${quizId}/item-analysis`)).statusCode).toBe(403);
    expect((await api(t, t.otherTeacher, 'GET', `/quizzes/${quizId}/item-analysis`)).statusCode).toBe(403);
    expect((await api(t, null, 'GET', `/quizzes/${quizId}/item-analysis`)).statusCode).toBe(401);
    expect((await api(t, t.teacher, 'GET', '/quizzes/qz_missing/item-analysis')).statusCode).toBe(404);
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { api, createCourse, eventsOf, learningApp, studentPrincipal, type LearningTestApp } from '../../../test/support/learning.js';

/** One question of every type, with the answers that earn full points. */
const QUESTIONS = [
  { type: 'single', prompt: '2+2?', options: [{ id: 'a', text: '3' }, { id: 'b', text: '4' }], correctOptionIds: ['b'], explanation: 'Count.' },
  { type: 'multiple', prompt: 'Primes?', points: 2, options: [{ id: 'p2', text: '2' }, { id: 'p3', text: '3' }, { id: 'p4', text: '4' }], correctOptionIds: ['p2', 'p3'] },
  { type: 'true_false', prompt: 'The sky is blue.', correctBoolean: true },
  { type: 'short_text', prompt: 'Capital of France?', acceptedAnswers: ['Paris'], match: 'case_insensitive' },
  { type: 'numeric', prompt: 'Pi?', correctNumber: 3.14159, tolerance: 0.01 },
  { type: 'ordering', prompt: 'Order', options: [{ id: 'one', text: '1' }, { id: 'two', text: '2' }, { id: 'three', text: '3' }] },
  { type: 'matching', prompt: 'Match', pairs: [{ left: { id: 'fr', text: 'France' }, right: { id: 'paris', text: 'Paris' } }, { left: { id: 'de', text: 'Germany' }, right: { id: 'berlin', text: 'Berlin' } }] },
  { type: 'free_text', prompt: 'Explain.', points: 3 },
] as const;

describeEachDialect('learning: quizzes and attempts', (dialect) => {
  let t: LearningTestApp;
  let courseId: string;
  beforeAll(async () => {
    t = await learningApp({ dialect });
    courseId = (await createCourse(t, t.teacher, { title: 'Quiz course' })).id;
    expect((await api(t, t.student, 'POST', `/courses/${courseId}/enrollments`, {})).statusCode).toBe(201);
  }, 180_000);
  afterAll(() => t?.destroy());

  async function quizWith(settings: Record<string, unknown>, questions: readonly object[] = QUESTIONS) {
    const res = await api(t, t.teacher, 'POST', `/courses/${courseId}/quizzes`, { title: 'Quiz', status: 'published', ...settings });
    expect(res.statusCode, res.body).toBe(201);
    const ids: string[] = [];
    for (const q of questions) {
      const created = await api(t, t.teacher, 'POST', `/quizzes/${res.json().id}/questions`, q);
      expect(created.statusCode, created.body).toBe(201);
      ids.push(created.json().id);
    }
    return { quiz: res.json(), ids };
  }

  it('drafts are hidden; answer keys never reach students before submission', async () => {
    const draft = await api(t, t.teacher, 'POST', `/courses/${courseId}/quizzes`, { title: 'Draft quiz' });
    expect(draft.json()).toMatchObject({ status: 'draft', feedback: 'correctness', passingScore: 50, questionCount: 0 });
    expect((await api(t, t.student, 'GET', `/quizzes/${draft.json().id}`)).statusCode).toBe(404);
    expect((await api(t, t.student, 'POST', `/courses/${courseId}/quizzes`, { title: 'x' })).statusCode).toBe(403);
    const { quiz } = await quizWith({ feedback: 'explanations' });
    expect((await api(t, t.student, 'GET', `/quizzes/${quiz.id}/questions`)).statusCode).toBe(403);
    expect((await api(t, t.teacher, 'GET', `/quizzes/${quiz.id}/questions`)).json().items).toHaveLength(8);
    expect((await api(t, t.otherStudent, 'POST', `/quizzes/${quiz.id}/attempts`)).statusCode).toBe(403);
    const started = await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`);
    expect(started.statusCode, started.body).toBe(201);
    expect(started.json().questions).toHaveLength(8);
    for (const secret of ['correctOptionIds', 'correctBoolean', 'acceptedAnswers', 'correctNumber', 'pairs', 'Count.', 'result']) expect(started.body).not.toContain(secret);
    const matching = started.json().questions.find((q: { type: string }) => q.type === 'matching');
    expect(matching.left.map((i: { id: string }) => i.id)).toEqual(['fr', 'de']);
    expect(matching.right.map((i: { id: string }) => i.id).sort()).toEqual(['berlin', 'paris']);
    expect((await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json().code).toBe('LEARNING_ATTEMPT_OPEN');
    expect((await api(t, t.otherStudent, 'GET', `/attempts/${started.json().id}`)).statusCode).toBe(404);
  });

  it('scores every type on the server, with partial credit; free text waits for the teacher', async () => {
    const { quiz, ids } = await quizWith({ feedback: 'answers', passingScore: 60 });
    const attempt = (await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
    const answers = [
      { questionId: ids[0], response: { optionId: 'b' } },
      { questionId: ids[1], response: { optionIds: ['p2', 'p4'] } }, // one right, one wrong: 0 of 2
      { questionId: ids[2], response: { value: true } },
      { questionId: ids[3], response: { text: '  paris ' } },
      { questionId: ids[4], response: { value: 3.141 } },
      { questionId: ids[5], response: { order: ['one', 'three', 'two'] } }, // 1 of 3 in place
      { questionId: ids[6], response: { matches: [{ leftId: 'fr', rightId: 'paris' }, { leftId: 'de', rightId: 'paris' }] } }, // 1 of 2
      { questionId: ids[7], response: { text: 'Because.' } },
    ];
    const bad = await api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: ids[0], response: { optionId: 'zzz' } }] });
    expect(bad.statusCode).toBe(422);
    const saved = await api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers });
    expect(saved.statusCode, saved.body).toBe(200);
    // Idempotent per question; an older client timestamp does not overwrite a newer answer.
    await api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: ids[1], response: { optionIds: ['p2'] }, clientTimestamp: '2026-11-22T10:05:00.000Z' }] });
    await api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: ids[1], response: { optionIds: ['p2', 'p4'] }, clientTimestamp: '2026-11-22T10:01:00.000Z' }] });
    expect((await api(t, t.student, 'GET', `/attempts/${attempt.id}`)).json().questions[1].answer).toEqual({ optionIds: ['p2'] }); // 1 of 2 right: 1 point

    const submitted = await api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`);
    expect(submitted.statusCode, submitted.body).toBe(200);
    const body = submitted.json();
    expect(body).toMatchObject({ status: 'submitted', score: null, maxScore: 11, passed: null });
    const points = body.questions.map((q: { result: { points: number | null } }) => q.result.points);
    expect(points).toEqual([1, 1, 1, 1, 1, 0.33, 0.5, null]);
    expect(body.questions[0].result).toMatchObject({ correct: true, correctAnswer: { optionId: 'b' } });
    expect(body.questions[0].result.explanation).toBeUndefined(); // 'answers' level: no explanations
    expect((await api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`)).json().status).toBe('submitted');
    expect((await api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers })).json().code).toBe('LEARNING_ATTEMPT_CLOSED');

    expect((await api(t, t.student, 'POST', `/attempts/${attempt.id}/grade`, { grades: [{ questionId: ids[7], points: 3 }] })).statusCode).toBe(403);
    expect((await api(t, t.otherTeacher, 'POST', `/attempts/${attempt.id}/grade`, { grades: [{ questionId: ids[7], points: 3 }] })).statusCode).toBe(404);
    expect((await api(t, t.teacher, 'POST', `/attempts/${attempt.id}/grade`, { grades: [{ questionId: ids[0], points: 1 }] })).statusCode).toBe(422);
    expect((await api(t, t.teacher, 'POST', `/attempts/${attempt.id}/grade`, { grades: [{ questionId: ids[7], points: 4 }] })).statusCode).toBe(422);
    const graded = await api(t, t.teacher, 'POST', `/attempts/${attempt.id}/grade`, { grades: [{ questionId: ids[7], points: 2, comment: 'Good start' }] });
    expect(graded.statusCode, graded.body).toBe(200);
    expect(graded.json()).toMatchObject({ status: 'graded', score: 7.83, maxScore: 11, passed: true });
    const event = (await eventsOf(t, 'learning.attempt.graded')).at(-1)!;
    expect(event.payload).toEqual({ attemptId: attempt.id, quizId: quiz.id, quizTitle: 'Quiz', courseId, userId: t.student.userId, score: 7.83, maxScore: 11, passed: true });
    expect(event.scopes).toEqual([`user:${t.student.userId}`]);
    expect((await api(t, t.student, 'GET', `/attempts/${attempt.id}`)).json().questions[7].result).toMatchObject({ points: 2, comment: 'Good start' });

    // Correcting a question regrades the attempt, and says so.
    const fixed = await api(t, t.teacher, 'PATCH', `/questions/${ids[1]}`, { correctOptionIds: ['p2'] });
    expect(fixed.statusCode, fixed.body).toBe(200);
    const regraded = (await api(t, t.student, 'GET', `/attempts/${attempt.id}`)).json();
    expect(regraded.score).toBe(8.83);
    expect((await eventsOf(t, 'learning.attempt.graded')).at(-1)!.payload).toMatchObject({ attemptId: attempt.id, score: 8.83 });
    expect((await api(t, t.teacher, 'DELETE', `/questions/${ids[0]}`)).statusCode).toBe(409);
    const list = (await api(t, t.student, 'GET', `/quizzes/${quiz.id}/attempts`)).json();
    expect(list.items).toMatchObject([{ id: attempt.id, status: 'graded', score: 8.83 }]);
  });

  it('one save may answer a question twice: the later answer stands, unless its client timestamp is older', async () => {
    const { quiz, ids } = await quizWith({ feedback: 'answers' }, [QUESTIONS[0], QUESTIONS[2]]);
    const attempt = (await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
    const saved = await api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, {
      answers: [
        { questionId: ids[0], response: { optionId: 'a' } },
        { questionId: ids[1], response: { value: false }, clientTimestamp: '2026-11-22T10:05:00.000Z' },
        { questionId: ids[0], response: { optionId: 'b' } },
        { questionId: ids[1], response: { value: true }, clientTimestamp: '2026-11-22T10:01:00.000Z' },
      ],
    });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json().questions.map((q: { answer: unknown }) => q.answer)).toEqual([{ optionId: 'b' }, { value: false }]);
    const submitted = (await api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`)).json();
    expect(submitted).toMatchObject({ status: 'graded', score: 1, maxScore: 2 });
    expect(submitted.questions.map((q: { result: { points: number } }) => q.result.points)).toEqual([1, 0]);
  });

  it('hands in a whole attempt with one request: answers saved and scored together, by the rules of a save', async () => {
    const { quiz, ids } = await quizWith({ feedback: 'answers', maxAttempts: 3 }, [QUESTIONS[0], QUESTIONS[2], QUESTIONS[7]]);
    const attempt = (await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
    // Saved earlier with a newer client timestamp: the older answer handed in does not replace it.
    await api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: ids[1], response: { value: false }, clientTimestamp: '2026-11-22T10:05:00.000Z' }] });
    const handIn = [
      { questionId: ids[0], response: { optionId: 'b' } },
      { questionId: ids[1], response: { value: true }, clientTimestamp: '2026-11-22T10:01:00.000Z' },
      { questionId: ids[2], response: { text: 'Because it is.' } },
    ];
    // A bad answer refuses the whole request: nothing is stored, the attempt stays open.
    const bad = await api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`, { answers: [handIn[0], { questionId: 'qst_elsewhere', response: { value: true } }] });
    expect(bad.statusCode, bad.body).toBe(422);
    expect(bad.json().errors).toEqual([expect.objectContaining({ path: '/body/answers/1/questionId' })]);
    expect((await api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`, { answers: [] })).statusCode).toBe(422);
    expect((await api(t, t.otherStudent, 'POST', `/attempts/${attempt.id}/submit`, { answers: handIn })).statusCode).toBe(404);
    const unchanged = (await api(t, t.student, 'GET', `/attempts/${attempt.id}`)).json();
    expect(unchanged).toMatchObject({ status: 'open' });
    expect(unchanged.questions.map((q: { answer: unknown }) => q.answer)).toEqual([null, { value: false }, null]);

    const submitted = await api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`, { answers: handIn });
    expect(submitted.statusCode, submitted.body).toBe(200);
    // The free-text answer waits for the teacher; the true/false keeps the newer stored answer (wrong).
    expect(submitted.json()).toMatchObject({ status: 'submitted', score: null, maxScore: 5 });
    expect(submitted.json().questions.map((q: { answer: unknown; result: { points: number | null } }) => [q.answer, q.result.points])).toEqual([
      [{ optionId: 'b' }, 1],
      [{ value: false }, 0],
      [{ text: 'Because it is.' }, null],
    ]);
    // What was stored is what was scored, as a later read shows.
    const stored = (await api(t, t.teacher, 'GET', `/attempts/${attempt.id}`)).json();
    expect(stored.questions.map((q: { answer: unknown; result: { points: number | null } }) => [q.answer, q.result.points])).toEqual([
      [{ optionId: 'b' }, 1],
      [{ value: false }, 0],
      [{ text: 'Because it is.' }, null],
    ]);
    // Handing in again returns the result; the answers sent then are not applied.
    const again = await api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`, { answers: [{ questionId: ids[1], response: { value: true } }] });
    expect(again.statusCode).toBe(200);
    expect(again.json().questions[1]).toMatchObject({ answer: { value: false }, result: { points: 0 } });
    expect((await eventsOf(t, 'learning.attempt.submitted')).filter((e) => (e.payload as { attemptId: string }).attemptId === attempt.id)).toHaveLength(1);
  });

  it('answers handed in after the deadline are refused; the attempt is submitted with what was stored', async () => {
    const { quiz, ids } = await quizWith({ timeLimitSeconds: 60 }, [QUESTIONS[0], QUESTIONS[2]]);
    const attempt = (await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
    await api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: ids[1], response: { value: true } }] });
    const start = t.clock.now().getTime();
    try {
      t.clock.advance(61_000);
      const late = await api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`, { answers: [{ questionId: ids[0], response: { optionId: 'b' } }] });
      expect(late.statusCode, late.body).toBe(409);
      expect(late.json().code).toBe('LEARNING_ATTEMPT_CLOSED');
      const after = (await api(t, t.student, 'GET', `/attempts/${attempt.id}`)).json();
      expect(after).toMatchObject({ status: 'graded', score: 1, maxScore: 2 });
      expect(after.questions[0].answer).toBeNull();
      expect((await eventsOf(t, 'learning.attempt.submitted')).at(-1)!.payload).toMatchObject({ attemptId: attempt.id, auto: true });
    } finally {
      t.clock.set(start);
    }
  });

  it('one open attempt under concurrent starts; allowed attempts are counted', async () => {
    const { quiz } = await quizWith({ maxAttempts: 2, feedback: 'none' }, [QUESTIONS[0]]);
    const me = studentPrincipal(t.student.userId);
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => t.learning.quizzes.start(me, quiz.id)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as { code: string }).code)).toEqual(Array(5).fill('LEARNING_ATTEMPT_OPEN'));
    const first = (ok[0] as PromiseFulfilledResult<{ id: string }>).value;
    const done = await api(t, t.student, 'POST', `/attempts/${first.id}/submit`);
    expect(done.json()).toMatchObject({ status: 'graded', score: 0, passed: false });
    expect(done.json().questions[0].result).toBeUndefined(); // feedback 'none'
    const second = await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`);
    expect(second.json().number).toBe(2);
    await api(t, t.student, 'POST', `/attempts/${second.json().id}/submit`);
    expect((await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json().code).toBe('LEARNING_NO_ATTEMPTS_LEFT');
  });

  it('a timed attempt is submitted by the deadline job', async () => {
    const { quiz, ids } = await quizWith({ timeLimitSeconds: 60 }, [QUESTIONS[2]]);
    const attempt = (await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
    expect(attempt.deadlineAt).toBe(new Date(t.clock.now().getTime() + 60_000).toISOString());
    const job = (await t.core.jobs.list({ limit: 100 })).find((j) => j.name === 'learning.attempt.autosubmit' && (j.payload as { attemptId: string }).attemptId === attempt.id);
    expect(job?.runAt).toBe(attempt.deadlineAt);
    await api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: ids[0], response: { value: true } }] });
    const start = t.clock.now().getTime();
    try {
      t.clock.advance(61_000);
      const me = studentPrincipal(t.student.userId);
      await expect(t.learning.quizzes.saveAnswers(me, attempt.id, { answers: [{ questionId: ids[0]!, response: { value: false } }] })).rejects.toMatchObject({ code: 'LEARNING_ATTEMPT_CLOSED' });
      await t.learning.jobs!['learning.attempt.autosubmit']!.handle({ id: 'j', name: 'learning.attempt.autosubmit', payload: { attemptId: attempt.id }, attempt: 1, maxAttempts: 1, signal: new AbortController().signal });
      const after = await t.learning.quizzes.getAttempt(me, attempt.id);
      expect(after).toMatchObject({ status: 'graded', score: 1, passed: true });
      const submitted = (await eventsOf(t, 'learning.attempt.submitted')).at(-1)!;
      expect(submitted.payload).toMatchObject({ attemptId: attempt.id, auto: true });
    } finally {
      t.clock.set(start);
    }
  });

  it('starting again once the open attempt’s time is up submits it (auto) and starts the next', async () => {
    const { quiz, ids } = await quizWith({ timeLimitSeconds: 60, maxAttempts: 2 }, [QUESTIONS[2]]);
    const first = (await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
    await api(t, t.student, 'PATCH', `/attempts/${first.id}`, { answers: [{ questionId: ids[0], response: { value: true } }] });
    expect((await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json().code).toBe('LEARNING_ATTEMPT_OPEN');
    const start = t.clock.now().getTime();
    try {
      t.clock.advance(61_000);
      const second = await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`);
      expect(second.statusCode, second.body).toBe(201);
      expect(second.json()).toMatchObject({ status: 'open', number: 2 });
      expect((await api(t, t.student, 'GET', `/attempts/${first.id}`)).json()).toMatchObject({ status: 'graded', score: 1, passed: true });
      expect((await eventsOf(t, 'learning.attempt.submitted')).at(-1)!.payload).toMatchObject({ attemptId: first.id, auto: true });
      await api(t, t.student, 'POST', `/attempts/${second.json().id}/submit`);
      expect((await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json().code).toBe('LEARNING_NO_ATTEMPTS_LEFT');
    } finally {
      t.clock.set(start);
    }
  });

  it('draws N questions from a bank; refuses catastrophic patterns; pattern answers match whole', async () => {
    const bad = await api(t, t.teacher, 'POST', `/courses/${courseId}/quizzes`, { title: 'Patterns', status: 'published', drawCount: 2 });
    const quizId = bad.json().id;
    for (const pattern of ['(a+)+$', '(\\w*)*', '(a|aa)+', '(x)\\1']) {
      const res = await api(t, t.teacher, 'POST', `/quizzes/${quizId}/questions`, { type: 'short_text', prompt: 'p', acceptedAnswers: [pattern], match: 'pattern' });
      expect(res.statusCode, pattern).toBe(422);
    }
    const ok = await api(t, t.teacher, 'POST', `/quizzes/${quizId}/questions`, { type: 'short_text', prompt: 'Color?', acceptedAnswers: ['colou?r'], match: 'pattern' });
    expect(ok.statusCode, ok.body).toBe(201);
    await api(t, t.teacher, 'POST', `/quizzes/${quizId}/questions`, QUESTIONS[0]);
    await api(t, t.teacher, 'POST', `/quizzes/${quizId}/questions`, QUESTIONS[2]);
    const attempt = (await api(t, t.student, 'POST', `/quizzes/${quizId}/attempts`)).json();
    expect(attempt.questions).toHaveLength(2);
    expect(attempt.maxScore).toBe(2);
    const { scoreResponse } = await import('./scoring.js');
    expect(scoreResponse('short_text', { accepted: ['colou?r'], match: 'pattern' }, 1, { text: 'Colour' })).toBe(1);
    expect(scoreResponse('short_text', { accepted: ['colou?r'], match: 'pattern' }, 1, { text: 'colours' })).toBe(0);
    expect(scoreResponse('short_text', { accepted: ['Paris'], match: 'exact' }, 1, { text: 'paris' })).toBe(0);
    expect(scoreResponse('multiple', { optionIds: ['a', 'b'] }, 4, { optionIds: ['a', 'b', 'c'] })).toBe(2);
    expect(scoreResponse('numeric', { value: 10, tolerance: 0.5 }, 1, { value: 10.6 })).toBe(0);
  });
});

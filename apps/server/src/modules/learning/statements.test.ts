import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { api, createCourse, createLesson, learningApp, type LearningTestApp } from '../../../test/support/learning.js';
import { uuidV5 } from './xapi.js';

const SINGLE = { type: 'single', prompt: '2+2?', options: [{ id: 'a', text: '3' }, { id: 'b', text: '4' }], correctOptionIds: ['b'] };
const ADL = 'http://adlnet.gov/expapi';

describe('uuidV5', () => {
  it('matches the RFC 4122 test vector and is deterministic', () => {
    // The DNS namespace and "www.example.com" (as published by Python's uuid.uuid5).
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    expect(uuidV5('evt_1')).toBe(uuidV5('evt_1'));
    expect(uuidV5('evt_1')).not.toBe(uuidV5('evt_2'));
  });
});

describeEachDialect('learning: xAPI statements', (dialect) => {
  let t: LearningTestApp;
  let course: { id: string };
  let lesson: { id: string };
  let quiz: { id: string };
  let home: string;

  beforeAll(async () => {
    t = await learningApp({ dialect });
    home = t.core.config.publicUrl;
    course = await createCourse(t, t.teacher, { title: 'Statements course' });
    lesson = await createLesson(t, t.teacher, course.id, { title: 'Lesson one' });
    quiz = (await api(t, t.teacher, 'POST', `/courses/${course.id}/quizzes`, { title: 'Final quiz', status: 'published' })).json();
    const question = (await api(t, t.teacher, 'POST', `/quizzes/${quiz.id}/questions`, SINGLE)).json();
    expect((await api(t, t.student, 'POST', `/courses/${course.id}/enrollments`, {})).statusCode).toBe(201);
    expect((await api(t, t.otherStudent, 'POST', `/courses/${course.id}/enrollments`, {})).statusCode).toBe(201);
    expect((await api(t, t.student, 'POST', `/lessons/${lesson.id}/complete`)).statusCode).toBe(200);
    const attempt = (await api(t, t.student, 'POST', `/quizzes/${quiz.id}/attempts`)).json();
    await api(t, t.student, 'PATCH', `/attempts/${attempt.id}`, { answers: [{ questionId: question.id, response: { optionId: 'b' } }] });
    expect((await api(t, t.student, 'POST', `/attempts/${attempt.id}/submit`)).statusCode).toBe(200);
  }, 180_000);
  afterAll(() => t?.destroy());

  async function all(user: LearningTestApp['admin'], limit = 100) {
    const items = [];
    let since: string | undefined;
    for (let i = 0; i < 50; i++) {
      const res = await api(t, user, 'GET', `/learning/statements?limit=${limit}${since ? `&since=${encodeURIComponent(since)}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      items.push(...body.items);
      since = body.nextCursor;
      if (!body.items.length) break;
    }
    return { items, since: since! };
  }

  it('maps learning events to xAPI statements', async () => {
    const { items } = await all(t.admin);
    const mine = items.filter((s: { actor: { account: { name: string } } }) => s.actor.account.name === t.student.userId);
    expect(mine.map((s: { verb: { id: string } }) => s.verb.id)).toEqual([`${ADL}/verbs/registered`, `${ADL}/verbs/completed`, `${ADL}/verbs/attempted`, `${ADL}/verbs/passed`, `${ADL}/verbs/completed`]);
    const [registered, lessonDone, , passed, courseDone] = mine;
    const courseActivity = { objectType: 'Activity', id: `${home}/api/v1/courses/${course.id}`, definition: { type: `${ADL}/activities/course` } };
    expect(registered).toMatchObject({
      actor: { objectType: 'Agent', account: { homePage: home, name: t.student.userId } },
      verb: { display: { 'en-US': 'registered' } },
      object: { ...courseActivity, definition: { ...courseActivity.definition, name: { 'en-US': 'Statements course' } } },
      version: '1.0.3',
    });
    expect(registered.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(lessonDone).toMatchObject({ object: { id: `${home}/api/v1/lessons/${lesson.id}` }, result: { completion: true }, context: { contextActivities: { parent: [courseActivity] } } });
    expect(passed).toMatchObject({
      object: { id: `${home}/api/v1/quizzes/${quiz.id}`, definition: { type: `${ADL}/activities/assessment`, name: { 'en-US': 'Final quiz' } } },
      result: { score: { scaled: 1, raw: 1, min: 0, max: 1 }, success: true, completion: true },
    });
    expect(courseDone).toMatchObject({ object: { id: courseActivity.id }, result: { completion: true } });
    expect(new Set(items.map((s: { id: string }) => s.id)).size).toBe(items.length);
    expect(Date.parse(passed.timestamp)).not.toBeNaN();
  });

  it('resumes from nextCursor: small pages give the same statements, with the same ids, and new ones follow', async () => {
    const whole = await all(t.admin);
    const paged = await all(t.admin, 2);
    expect(paged.items).toEqual(whole.items);
    const idle = (await api(t, t.admin, 'GET', `/learning/statements?since=${encodeURIComponent(whole.since)}`)).json();
    expect(idle.items).toEqual([]);
    expect((await api(t, t.otherStudent, 'POST', `/lessons/${lesson.id}/complete`)).statusCode).toBe(200);
    const next = (await api(t, t.admin, 'GET', `/learning/statements?since=${encodeURIComponent(idle.nextCursor)}`)).json();
    // The other student has not passed the required quiz: the lesson is done, not the course.
    expect(next.items.map((s: { actor: { account: { name: string } }; object: { id: string } }) => [s.actor.account.name, s.object.id])).toEqual([[t.otherStudent.userId, `${home}/api/v1/lessons/${lesson.id}`]]);
    expect((await api(t, t.admin, 'GET', '/learning/statements?since=forged.cursor')).statusCode).toBe(400);
  });

  it('a student reads only their own statements; a caller without either permission is refused', async () => {
    const { items } = await all(t.otherStudent);
    expect(items.length).toBeGreaterThan(0);
    expect(new Set(items.map((s: { actor: { account: { name: string } } }) => s.actor.account.name))).toEqual(new Set([t.otherStudent.userId]));
    const everything = await t.learning.statements.list({ kind: 'user', userId: 'usr_lrs', roles: [], permissions: new Set(['learning:statements']) }, { limit: 100 });
    expect(everything.items.some((s) => s.actor.account.name === t.student.userId)).toBe(true);
    await expect(t.learning.statements.list({ kind: 'user', userId: t.student.userId, roles: [], permissions: new Set(['profile:edit']) }, {})).rejects.toMatchObject({ status: 403 });
    expect((await api(t, null, 'GET', '/learning/statements')).statusCode).toBe(401);
  });
});

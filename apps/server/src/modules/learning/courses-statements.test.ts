import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp } from '../../../test/support/identity.js';
import { api, createCourse, learningApp, makeTeacher, type LearningTestApp } from '../../../test/support/learning.js';
import { isTransactionControl, recordStatements } from '../../../test/support/statements.js';

/**
 * `GET /courses` is the catalog's hot read (issue #4). What a page costs the database is counted at
 * the SQLite driver (timings depend on the machine's load; statement counts do not); the listing's
 * behaviour is tested on both dialects in courses.test.ts.
 */
describe('learning: a course listing runs one statement, whatever the page size (sqlite)', () => {
  let t: LearningTestApp;
  const statements = recordStatements();

  beforeAll(async () => {
    t = await learningApp({ dialect: 'sqlite' });
    const third = await signUp(t);
    await makeTeacher(t, t.admin, third);
    const levels = ['beginner', 'intermediate', 'advanced'];
    for (let i = 0; i < 25; i++) {
      // Some courses have no co-teacher, some one, some two (given in reverse order of id).
      const coTeacherIds = [[], [t.otherTeacher.userId], [third.userId, t.otherTeacher.userId]][i % 3];
      await createCourse(t, t.teacher, { title: `Algebra ${i}`, level: levels[i % 3], tags: i % 2 ? ['math'] : ['logic'], coTeacherIds });
    }
  }, 180_000);
  afterAll(async () => {
    statements.restore();
    await t?.destroy();
  });

  it('catalog, search, filters, sorts, next pages and a teacher’s own: one read each, with the co-teachers the course itself shows', async () => {
    const firstPage = (await api(t, null, 'GET', '/courses?limit=5')).json();
    const urls: Array<[string, typeof t.teacher | null]> = [
      ['/courses', null],
      ['/courses?limit=100', null],
      ['/courses?q=algebra', null],
      ['/courses?tag=math&sort=title', null],
      ['/courses?level=beginner&sort=-title&language=en', null],
      [`/courses?limit=5&cursor=${firstPage.nextCursor}`, null],
      ['/courses?scope=teaching', t.otherTeacher],
    ];
    for (const [url, user] of urls) {
      statements.seen.length = 0;
      const res = await api(t, user, 'GET', url);
      expect(res.statusCode, res.body).toBe(200);
      expect(statements.seen.filter((sql) => sql.includes('"learning_')), url).toHaveLength(1);
      const items = res.json().items as Array<{ id: string; coTeacherIds: string[] }>;
      expect(items.length, url).toBeGreaterThan(0);
      for (const item of items) expect(item, url).toEqual((await api(t, user, 'GET', `/courses/${item.id}`)).json());
    }
  });

  it('the catalog again, unchanged: no learning statement, one read of the event log’s head', async () => {
    for (const url of ['/courses?limit=7', '/courses?q=algebra&sort=title', '/courses?limit=7']) await api(t, null, 'GET', url);
    statements.seen.length = 0;
    const again = await api(t, null, 'GET', '/courses?q=algebra&sort=title');
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().items.length).toBeGreaterThan(0);
    expect(statements.seen.filter((sql) => sql.includes('"learning_'))).toEqual([]);
    // The head is a prepared read: on SQLite it may share a read transaction (begin/commit) with others.
    expect(statements.seen.filter((sql) => !isTransactionControl(sql))).toHaveLength(1);
  });
});

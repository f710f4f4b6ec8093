import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import { api, createCourse, createLesson, eventsOf, learningApp, type LearningTestApp } from '../../../test/support/learning.js';

describeEachDialect('learning: courses and lessons', (dialect) => {
  let t: LearningTestApp;
  beforeAll(async () => {
    t = await learningApp({ dialect });
  }, 180_000);
  afterAll(() => t?.destroy());

  it('a teacher creates a course (201, Location, ETag, event); a student may not', async () => {
    const res = await api(t, t.teacher, 'POST', '/courses', { title: 'Intro to Café Chemistry', summary: 'Molecules', tags: ['Science', 'lab'], level: 'beginner', language: 'en' });
    expect(res.statusCode, res.body).toBe(201);
    const course = res.json();
    expect(res.headers.location).toBe(`/api/v1/courses/${course.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(course).toMatchObject({ slug: 'intro-to-cafe-chemistry', status: 'draft', visibility: 'public', ownerId: t.teacher.userId, tags: ['Science', 'lab'], version: 1, enrolledCount: 0 });
    const created = await eventsOf(t, 'learning.course.created');
    expect(created.at(-1)).toMatchObject({ payload: { courseId: course.id, ownerId: t.teacher.userId }, scopes: expect.arrayContaining([`course:${course.id}`]) });

    const refused = await api(t, t.student, 'POST', '/courses', { title: 'Nope' });
    expect(refused.statusCode).toBe(403);
    expect((await api(t, null, 'POST', '/courses', { title: 'Nope' })).statusCode).toBe(401);
    // Same title again: a fresh slug; an explicit duplicate slug: 409.
    const again = await createCourse(t, t.teacher, { title: 'Intro to Café Chemistry' });
    expect(again.slug).not.toBe(course.slug);
    const dup = await api(t, t.teacher, 'POST', '/courses', { title: 'X', slug: course.slug });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('LEARNING_SLUG_TAKEN');
  });

  it('drafts are invisible to students and guests, visible to their teachers and admins', async () => {
    const draft = await createCourse(t, t.teacher, { title: 'Secret draft', status: 'draft' });
    for (const user of [t.student, t.otherTeacher, null]) {
      const res = await api(t, user, 'GET', `/courses/${draft.id}`);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('LEARNING_COURSE_NOT_FOUND');
    }
    for (const user of [t.teacher, t.admin]) expect((await api(t, user, 'GET', `/courses/${draft.id}`)).statusCode).toBe(200);
    const catalog = (await api(t, null, 'GET', '/courses?limit=100')).json();
    expect(catalog.items.map((c: { id: string }) => c.id)).not.toContain(draft.id);
    const teaching = (await api(t, t.teacher, 'GET', '/courses?scope=teaching&limit=100')).json();
    expect(teaching.items.map((c: { id: string }) => c.id)).toContain(draft.id);
    expect((await api(t, t.student, 'GET', '/courses?scope=all')).statusCode).toBe(403);
    expect((await api(t, null, 'GET', '/courses?scope=teaching')).statusCode).toBe(401);
  });

  it('unlisted courses are readable by id but not listed', async () => {
    const unlisted = await createCourse(t, t.teacher, { title: 'Hidden gem', visibility: 'unlisted' });
    expect((await api(t, t.student, 'GET', `/courses/${unlisted.id}`)).statusCode).toBe(200);
    const catalog = (await api(t, t.student, 'GET', '/courses?q=hidden')).json();
    expect(catalog.items).toEqual([]);
  });

  it('searches by full text with filters, sorts and pages; search syntax in q never breaks', async () => {
    const a = await createCourse(t, t.otherTeacher, { title: 'Quantum mechanics for poets', summary: 'Waves and particles', level: 'advanced', tags: ['physics'], language: 'de' });
    const b = await createCourse(t, t.otherTeacher, { title: 'Poetry of the waves', description: 'A *Markdown* description about quantum ideas', level: 'beginner', tags: ['poetry', 'physics'] });
    const ids = (res: { json(): { items: Array<{ id: string }> } }) => res.json().items.map((c) => c.id);
    expect(ids(await api(t, null, 'GET', '/courses?q=quantum')).sort()).toEqual([a.id, b.id].sort());
    expect(ids(await api(t, null, 'GET', '/courses?q=quantum%20poets'))).toEqual([a.id]);
    expect(ids(await api(t, null, 'GET', '/courses?q=quantum&level=beginner'))).toEqual([b.id]);
    expect(ids(await api(t, null, 'GET', '/courses?tag=PHYSICS&sort=title'))).toEqual([b.id, a.id]);
    expect(ids(await api(t, null, 'GET', '/courses?language=de'))).toEqual([a.id]);
    expect(ids(await api(t, null, 'GET', `/courses?teacherId=${t.otherTeacher.userId}&sort=-title`))).toEqual([a.id, b.id]);
    for (const q of ['"', 'quantum"', 'NEAR(a b)', 'a* OR b', "' or 1=1 --", '(((', '^', 'quantum:*', '!&|']) {
      const res = await api(t, null, 'GET', `/courses?q=${encodeURIComponent(q)}`);
      expect(res.statusCode, `${q}: ${res.body}`).toBe(200);
    }
    expect(ids(await api(t, null, 'GET', `/courses?q=${encodeURIComponent('quantum*')}`)).sort()).toEqual([a.id, b.id].sort());
    // Keyset pagination: pages of one, no repeats, all found.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { json(): { items: Array<{ id: string }>; nextCursor: string | null } } = await api(t, null, 'GET', `/courses?tag=physics&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      const page = res.json();
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([b.id, a.id]);
    const bad = await api(t, null, 'GET', '/courses?cursor=forged.cursor');
    expect(bad.statusCode).toBe(400);
  });

  it('patches with If-Match (412 when stale); co-teachers manage, other teachers may not', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Geometry' });
    const stale = await api(t, t.teacher, 'PATCH', `/courses/${course.id}`, { summary: 'x' }, { 'if-match': '"7"' });
    expect(stale.statusCode).toBe(412);
    const other = await api(t, t.otherTeacher, 'PATCH', `/courses/${course.id}`, { summary: 'x' });
    expect(other.statusCode).toBe(403);
    const notTeacher = await api(t, t.teacher, 'PATCH', `/courses/${course.id}`, { coTeacherIds: [t.student.userId] });
    expect(notTeacher.statusCode).toBe(422);
    const ok = await api(t, t.teacher, 'PATCH', `/courses/${course.id}`, { coTeacherIds: [t.otherTeacher.userId], tags: ['shapes'] }, { 'if-match': '"1"' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ version: 2, coTeacherIds: [t.otherTeacher.userId], tags: ['shapes'] });
    expect(ok.headers.etag).toBe('"2"');
    const byCoTeacher = await api(t, t.otherTeacher, 'PATCH', `/courses/${course.id}`, { summary: 'Angles' });
    expect(byCoTeacher.statusCode).toBe(200);
    expect((await api(t, t.otherTeacher, 'PATCH', `/courses/${course.id}`, { coTeacherIds: [] })).statusCode).toBe(403);
    expect((await api(t, t.otherTeacher, 'DELETE', `/courses/${course.id}`)).statusCode).toBe(403);
    expect(await t.learning.membership.roleIn(course.id, t.otherTeacher.userId)).toBe('staff');
    const bad = await api(t, t.teacher, 'PATCH', `/courses/${course.id}`, { enrollmentOpensAt: '2030-01-02T00:00:00.000Z', enrollmentClosesAt: '2030-01-01T00:00:00.000Z' });
    expect(bad.statusCode).toBe(422);
    const prereq = await api(t, t.teacher, 'PATCH', `/courses/${course.id}`, { prerequisiteCourseIds: ['crs_doesnotexist'] });
    expect(prereq.statusCode).toBe(422);
    const del = await api(t, t.admin, 'DELETE', `/courses/${course.id}`);
    expect(del.statusCode).toBe(204);
    expect((await api(t, t.teacher, 'GET', `/courses/${course.id}`)).statusCode).toBe(404);
    expect((await eventsOf(t, 'learning.course.deleted')).at(-1)?.payload).toEqual({ courseId: course.id });
  });

  it('lessons are ordered and reorderable; drafts hidden from students', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Ordered lessons' });
    const one = await createLesson(t, t.teacher, course.id, { title: 'One', content: '# Hello', videoUrl: 'https://video.example/1', minutes: 10 });
    const two = await createLesson(t, t.teacher, course.id, { title: 'Two' });
    const three = await createLesson(t, t.teacher, course.id, { title: 'Three', status: 'draft', prerequisiteLessonIds: [one.id] });
    expect([one.position, two.position, three.position]).toEqual([1, 2, 3]);
    expect((await api(t, t.otherTeacher, 'POST', `/courses/${course.id}/lessons`, { title: 'Intruder' })).statusCode).toBe(403);
    expect((await api(t, t.teacher, 'POST', `/courses/${course.id}/lessons`, { title: 'Bad', prerequisiteLessonIds: ['lsn_elsewhere'] })).statusCode).toBe(422);

    const moved = await api(t, t.teacher, 'PATCH', `/lessons/${three.id}`, { position: 1 });
    expect(moved.statusCode, moved.body).toBe(200);
    const titles = async (user: typeof t.teacher | null) => (await api(t, user, 'GET', `/courses/${course.id}/lessons`)).json().items.map((l: { title: string; position: number }) => `${l.position}:${l.title}`);
    expect(await titles(t.teacher)).toEqual(['1:Three', '2:One', '3:Two']);
    expect(await titles(t.student)).toEqual(['2:One', '3:Two']);
    expect((await api(t, t.student, 'GET', `/lessons/${three.id}`)).statusCode).toBe(404);
    expect((await api(t, t.student, 'GET', `/lessons/${one.id}`)).json()).toMatchObject({ content: '# Hello', videoUrl: 'https://video.example/1', minutes: 10, required: true });
    expect((await api(t, t.student, 'PATCH', `/lessons/${one.id}`, { title: 'hack' })).statusCode).toBe(403);
    expect((await api(t, t.teacher, 'PATCH', `/lessons/${one.id}`, { title: 'x' }, { 'if-match': '"9"' })).statusCode).toBe(412);

    expect((await api(t, t.teacher, 'DELETE', `/lessons/${three.id}`)).statusCode).toBe(204);
    expect(await titles(t.teacher)).toEqual(['1:One', '2:Two']);
    // Paging through lessons.
    const first = (await api(t, t.teacher, 'GET', `/courses/${course.id}/lessons?limit=1`)).json();
    expect(first.items.map((l: { title: string }) => l.title)).toEqual(['One']);
    const second = (await api(t, t.teacher, 'GET', `/courses/${course.id}/lessons?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`)).json();
    expect(second).toMatchObject({ items: [{ title: 'Two' }], nextCursor: null });
    // A draft course's lessons are as invisible as the course.
    const draft = await createCourse(t, t.teacher, { title: 'Draft with lessons', status: 'draft' });
    const hidden = await createLesson(t, t.teacher, draft.id);
    expect((await api(t, t.student, 'GET', `/courses/${draft.id}/lessons`)).statusCode).toBe(404);
    expect((await api(t, t.student, 'GET', `/lessons/${hidden.id}`)).statusCode).toBe(404);
  });

  it('publishing emits learning.course.published once', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Soon', status: 'draft' });
    const res = await api(t, t.teacher, 'PATCH', `/courses/${course.id}`, { status: 'published' });
    expect(res.json().publishedAt).toBe(t.clock.now().toISOString());
    await api(t, t.teacher, 'PATCH', `/courses/${course.id}`, { summary: 'again' });
    expect((await eventsOf(t, 'learning.course.published')).filter((e) => (e.payload as { courseId: string }).courseId === course.id)).toHaveLength(1);
  });
  it('the catalog shows every change on the next request, on this node and on another', async () => {
    const nodeB = await buildApp({ config: t.config, clock: t.clock, logger: false });
    try {
      const list = async (node: 'A' | 'B', url = '/courses?limit=100') => {
        const res = await (node === 'A' ? t.app : nodeB.app).inject({ method: 'GET', url: `/api/v1${url}` });
        expect(res.statusCode, res.body).toBe(200);
        return res.json().items as Array<{ id: string; title: string; enrolledCount: number; coTeacherIds: string[] }>;
      };
      const find = async (node: 'A' | 'B', id: string, url?: string) => (await list(node, url)).find((c) => c.id === id);
      const course = await createCourse(t, t.teacher, { title: 'Cached catalog' });
      const search = '/courses?q=cached&limit=100';
      for (const node of ['A', 'B'] as const) {
        expect(await find(node, course.id)).toMatchObject({ title: 'Cached catalog', enrolledCount: 0 });
        expect(await find(node, course.id, search)).toBeDefined();
      }

      await api(t, t.teacher, 'PATCH', `/courses/${course.id}`, { title: 'Renamed catalog', coTeacherIds: [t.otherTeacher.userId] });
      for (const node of ['A', 'B'] as const) expect(await find(node, course.id)).toMatchObject({ title: 'Renamed catalog', coTeacherIds: [t.otherTeacher.userId] });
      for (const node of ['A', 'B'] as const) expect(await find(node, course.id, search)).toBeUndefined();

      expect((await api(t, t.student, 'POST', `/courses/${course.id}/enrollments`, {})).statusCode).toBe(201);
      for (const node of ['A', 'B'] as const) expect(await find(node, course.id)).toMatchObject({ enrolledCount: 1 });
      expect((await api(t, t.student, 'DELETE', `/courses/${course.id}/enrollments/me`)).statusCode).toBe(204);
      for (const node of ['A', 'B'] as const) expect(await find(node, course.id)).toMatchObject({ enrolledCount: 0 });

      await api(t, t.teacher, 'PATCH', `/courses/${course.id}`, { visibility: 'private' });
      for (const node of ['A', 'B'] as const) expect(await find(node, course.id)).toBeUndefined();
      await api(t, t.teacher, 'PATCH', `/courses/${course.id}`, { visibility: 'public', status: 'draft' });
      for (const node of ['A', 'B'] as const) expect(await find(node, course.id)).toBeUndefined();
      await api(t, t.teacher, 'PATCH', `/courses/${course.id}`, { status: 'published' });
      for (const node of ['A', 'B'] as const) expect(await find(node, course.id)).toBeDefined();
      expect((await api(t, t.teacher, 'DELETE', `/courses/${course.id}`)).statusCode).toBe(204);
      for (const node of ['A', 'B'] as const) expect(await find(node, course.id)).toBeUndefined();

      const created = await createCourse(t, t.otherTeacher, { title: 'Cached newcomer' });
      for (const node of ['A', 'B'] as const) expect(await find(node, created.id)).toBeDefined();
    } finally {
      await nodeB.close();
    }
  });
});

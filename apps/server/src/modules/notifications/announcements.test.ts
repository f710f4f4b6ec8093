import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { notificationsApp, userId, type NotificationsTestApp } from '../../../test/support/notifications.js';
import { until } from '../../../test/support/until.js';

describeEachDialect('course announcements', (dialect) => {
  let t: NotificationsTestApp;
  beforeAll(async () => {
    t = await notificationsApp({ dialect });
  }, 60_000);
  afterAll(() => t?.destroy());

  const teacher = userId('teach');
  const students = [userId('s'), userId('s'), userId('s')];
  const outsider = userId('out');
  const as = (user: string, permissions = 'course:enroll') => ({ authorization: `Bearer test:${user}:${permissions}` });
  let course: string;

  const announce = (user: string, payload: object, headers = as(user, 'course:create')) =>
    t.app.inject({ method: 'POST', url: `/api/v1/courses/${course}/announcements`, headers, payload });

  beforeAll(async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/courses', headers: as(teacher, 'course:create'), payload: { title: 'Geometry', status: 'published', visibility: 'public' } });
    expect(res.statusCode, res.body).toBe(201);
    course = res.json().id;
    for (const s of students) {
      const enrolled = await t.app.inject({ method: 'POST', url: `/api/v1/courses/${course}/enrollments`, headers: as(s), payload: {} });
      expect(enrolled.statusCode, enrolled.body).toBeLessThan(300);
    }
  });

  it('fans an announcement out to every member through jobs, once each, but not to its author', async () => {
    const res = await announce(teacher, { title: 'Exam on Friday', body: 'Bring a compass.' });
    expect(res.statusCode, res.body).toBe(201);
    const announcement = res.json();
    expect(res.headers.location).toBe(`/api/v1/courses/${course}/announcements/${announcement.id}`);
    const logged = (await t.core.events.readSince(0, { scopes: [`course:${course}`], limit: 500 })).filter((e) => e.type === 'notifications.announcement.created');
    expect(logged.map((e) => (e.payload as { announcement: { id: string } }).announcement.id)).toEqual([announcement.id]);
    for (const s of students) {
      await until(async () => (await t.inbox(s, '?category=announcement')).items.length === 1);
      expect((await t.inbox(s, '?category=announcement')).items[0]).toMatchObject({ title: 'Geometry: Exam on Friday', body: 'Bring a compass.', entity: { type: 'announcement', id: announcement.id }, actorId: teacher });
    }
    expect((await t.inbox(teacher, '?category=announcement')).items).toHaveLength(0);
    // The enrollment events learning emitted reached the inbox too.
    expect((await t.inbox(students[0]!, '?category=enrollment')).items[0]).toMatchObject({ title: 'You are enrolled in Geometry' });
    // A batch run again (a worker died after committing) adds nothing.
    await t.notifications.service.deliver([]);
    await t.core.jobs.enqueue(t.core.database.db, 'notifications.announcement.batch', { announcementId: announcement.id, userIds: students });
    await t.settled();
    for (const s of students) expect((await t.inbox(s, '?category=announcement')).items).toHaveLength(1);
    const read = await t.app.inject({ method: 'GET', url: `/api/v1/courses/${course}/announcements/${announcement.id}`, headers: as(students[1]!) });
    expect(read.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/courses/${course}/announcements/${announcement.id}`, headers: as(outsider) })).statusCode).toBe(404);
  });

  it('lets only staff of the course or an admin announce', async () => {
    expect((await announce(students[0]!, { title: 'Hi', body: 'all' }, as(students[0]!))).statusCode).toBe(403);
    expect((await announce(outsider, { title: 'Hi', body: 'all' })).statusCode).toBe(404);
    // (Admins may announce in any course: covered by the authorization matrix, with a real admin.)
    const missing = await t.app.inject({ method: 'POST', url: '/api/v1/courses/crs_nothing/announcements', headers: as(teacher, 'course:create'), payload: { title: 'x', body: 'y' } });
    expect(missing.statusCode).toBe(404);
    expect((await announce(teacher, { title: ' ', body: 'y' })).statusCode).toBe(422);
  });
});

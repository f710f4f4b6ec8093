import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { api, createCourse, createLesson, eventsOf, learningApp, studentPrincipal, type LearningTestApp } from '../../../test/support/learning.js';

describeEachDialect('learning: enrollment', (dialect) => {
  let t: LearningTestApp;
  beforeAll(async () => {
    t = await learningApp({ dialect });
  }, 180_000);
  afterAll(() => t?.destroy());

  it('a student self-enrolls in a public course, once, and withdraws', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Open course' });
    const res = await api(t, t.student, 'POST', `/courses/${course.id}/enrollments`, {});
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/courses/${course.id}/enrollments/${t.student.userId}`);
    expect(res.json()).toMatchObject({ courseId: course.id, userId: t.student.userId, status: 'active', displayName: 'Student S' });
    const activated = (await eventsOf(t, 'learning.enrollment.activated')).at(-1)!;
    expect(activated.payload).toEqual({ courseId: course.id, userId: t.student.userId, courseTitle: 'Open course' });
    expect(activated.scopes.sort()).toEqual([`course:${course.id}`, `user:${t.student.userId}`].sort());
    expect((await api(t, t.teacher, 'GET', `/courses/${course.id}`)).json().enrolledCount).toBe(1);

    const again = await api(t, t.student, 'POST', `/courses/${course.id}/enrollments`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('LEARNING_ALREADY_ENROLLED');
    expect(await t.learning.membership.roleIn(course.id, t.student.userId)).toBe('student');
    expect((await t.learning.membership.memberIds(course.id)).sort()).toEqual([t.teacher.userId, t.student.userId].sort());
    expect(await t.learning.membership.title(course.id)).toBe('Open course');
    expect((await api(t, t.student, 'GET', `/courses/${course.id}/enrollments/me`)).json().status).toBe('active');
    const enrolled = (await api(t, t.student, 'GET', '/courses?scope=enrolled')).json();
    expect(enrolled.items.map((c: { id: string }) => c.id)).toEqual([course.id]);

    // Another student can neither read nor end it.
    expect((await api(t, t.otherStudent, 'GET', `/courses/${course.id}/enrollments/${t.student.userId}`)).statusCode).toBe(404);
    expect((await api(t, t.otherStudent, 'DELETE', `/courses/${course.id}/enrollments/${t.student.userId}`)).statusCode).toBe(404);

    expect((await api(t, t.student, 'DELETE', `/courses/${course.id}/enrollments/me`)).statusCode).toBe(204);
    const ended = (await eventsOf(t, 'learning.enrollment.ended')).at(-1)!;
    expect(ended.payload).toMatchObject({ courseId: course.id, userId: t.student.userId });
    expect(ended.scopes.sort()).toEqual([`course:${course.id}`, `user:${t.student.userId}`].sort());
    expect((await api(t, t.teacher, 'GET', `/courses/${course.id}`)).json().enrolledCount).toBe(0);
    expect(await t.learning.membership.roleIn(course.id, t.student.userId)).toBeNull();
    // Withdrawn students may come back.
    expect((await api(t, t.student, 'POST', `/courses/${course.id}/enrollments`, {})).statusCode).toBe(201);
  });

  it('private courses: request, then a teacher approves; lessons need the enrollment', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Private seminar', visibility: 'private' });
    const lesson = await createLesson(t, t.teacher, course.id);
    expect((await api(t, t.otherStudent, 'GET', `/lessons/${lesson.id}`)).statusCode).toBe(404);
    expect((await api(t, t.otherStudent, 'GET', `/courses/${course.id}/lessons`)).statusCode).toBe(403);
    const req = await api(t, t.otherStudent, 'POST', `/courses/${course.id}/enrollments`, {});
    expect(req.statusCode, req.body).toBe(201);
    expect(req.json().status).toBe('pending');
    expect((await eventsOf(t, 'learning.enrollment.requested')).at(-1)?.payload).toEqual({ courseId: course.id, userId: t.otherStudent.userId });
    expect(await t.learning.membership.roleIn(course.id, t.otherStudent.userId)).toBeNull();

    // The student cannot approve themselves; another teacher cannot either.
    expect((await api(t, t.otherStudent, 'PATCH', `/courses/${course.id}/enrollments/me`, { status: 'active' })).statusCode).toBe(403);
    expect((await api(t, t.otherTeacher, 'PATCH', `/courses/${course.id}/enrollments/${t.otherStudent.userId}`, { status: 'active' })).statusCode).toBe(404);
    const roster = await api(t, t.teacher, 'GET', `/courses/${course.id}/enrollments?status=pending`);
    expect(roster.json().items).toMatchObject([{ userId: t.otherStudent.userId, status: 'pending' }]);
    expect((await api(t, t.otherStudent, 'GET', `/courses/${course.id}/enrollments`)).statusCode).toBe(403);

    const approved = await api(t, t.teacher, 'PATCH', `/courses/${course.id}/enrollments/${t.otherStudent.userId}`, { status: 'active' });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().status).toBe('active');
    expect((await eventsOf(t, 'learning.enrollment.activated')).at(-1)?.payload).toEqual({ courseId: course.id, userId: t.otherStudent.userId, courseTitle: 'Private seminar' });
    expect((await api(t, t.otherStudent, 'GET', `/lessons/${lesson.id}`)).statusCode).toBe(200);
    const twice = await api(t, t.teacher, 'PATCH', `/courses/${course.id}/enrollments/${t.otherStudent.userId}`, { status: 'rejected' });
    expect(twice.statusCode).toBe(409);
  });

  it('teachers add and remove students; removed students cannot re-enroll themselves', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Managed roster', visibility: 'private' });
    const added = await api(t, t.teacher, 'POST', `/courses/${course.id}/enrollments`, { userId: t.student.userId });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json().status).toBe('active');
    expect((await api(t, t.otherStudent, 'POST', `/courses/${course.id}/enrollments`, { userId: t.student.userId })).statusCode).toBe(403);
    expect((await api(t, t.teacher, 'POST', `/courses/${course.id}/enrollments`, { userId: 'usr_nobody' })).statusCode).toBe(422);
    const roster = (await api(t, t.teacher, 'GET', `/courses/${course.id}/enrollments`)).json();
    expect(roster.items).toMatchObject([{ userId: t.student.userId, displayName: 'Student S', status: 'active' }]);
    expect((await api(t, t.teacher, 'DELETE', `/courses/${course.id}`)).statusCode).toBe(409);

    expect((await api(t, t.teacher, 'DELETE', `/courses/${course.id}/enrollments/${t.student.userId}`)).statusCode).toBe(204);
    expect((await eventsOf(t, 'learning.enrollment.ended')).at(-1)?.payload).toMatchObject({ courseId: course.id, userId: t.student.userId, reason: 'removed' });
    const back = await api(t, t.student, 'POST', `/courses/${course.id}/enrollments`, {});
    expect(back.statusCode).toBe(409);
    expect(back.json().code).toBe('LEARNING_ENROLLMENT_STATE');
    expect((await api(t, t.teacher, 'DELETE', `/courses/${course.id}`)).statusCode).toBe(204);
  });

  it('enforces the enrollment window and course status', async () => {
    const now = t.clock.now().getTime();
    const course = await createCourse(t, t.teacher, {
      title: 'Windowed',
      enrollmentOpensAt: new Date(now + 86_400_000).toISOString(),
      enrollmentClosesAt: new Date(now + 2 * 86_400_000).toISOString(),
    });
    const early = await api(t, t.student, 'POST', `/courses/${course.id}/enrollments`, {});
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('LEARNING_ENROLLMENT_CLOSED');
    // Access tokens live minutes: past this point the service is called directly.
    try {
      t.clock.advance(36 * 3_600_000);
      expect((await t.learning.enrollments.enroll(studentPrincipal(t.student.userId), course.id, {})).status).toBe('active');
      t.clock.advance(24 * 3_600_000);
      await expect(t.learning.enrollments.enroll(studentPrincipal(t.otherStudent.userId), course.id, {})).rejects.toMatchObject({ code: 'LEARNING_ENROLLMENT_CLOSED' });
    } finally {
      t.clock.set(now);
    }
    const archived = await createCourse(t, t.teacher, { title: 'Old', status: 'archived' });
    expect((await api(t, t.student, 'POST', `/courses/${archived.id}/enrollments`, {})).statusCode).toBe(404);
  });

  it('capacity holds under concurrency: 20 concurrent enrollments, capacity 5 → exactly 5', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Tiny class', capacity: 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => t.learning.enrollments.enroll(studentPrincipal(`usr_concurrent${i}`), course.id, {})),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(5);
    expect(refused.map((r) => (r.reason as { code?: string }).code)).toEqual(Array(15).fill('LEARNING_COURSE_FULL'));
    expect((await api(t, t.teacher, 'GET', `/courses/${course.id}`)).json().enrolledCount).toBe(5);
    const roster = (await api(t, t.teacher, 'GET', `/courses/${course.id}/enrollments?status=active&limit=100`)).json();
    expect(roster.items).toHaveLength(5);
    // Concurrent double-enrollment of one student: one row, one seat.
    const solo = await createCourse(t, t.teacher, { title: 'Solo' });
    const same = await Promise.allSettled(Array.from({ length: 5 }, () => t.learning.enrollments.enroll(studentPrincipal('usr_twice'), solo.id, {})));
    expect(same.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await api(t, t.teacher, 'GET', `/courses/${solo.id}`)).json().enrolledCount).toBe(1);
  });

  it('the course room admits members, staff and admins only', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Room test' });
    const authorize = t.learning.rooms!.course!;
    await api(t, t.student, 'POST', `/courses/${course.id}/enrollments`, {});
    expect(await authorize(studentPrincipal(t.student.userId), course.id)).toBe(true);
    expect(await authorize(studentPrincipal(t.otherStudent.userId), course.id)).toBe(false);
    expect(await authorize(studentPrincipal(t.teacher.userId), course.id)).toBe(true);
    expect(await authorize({ kind: 'user', userId: 'usr_admin', roles: ['admin'], permissions: new Set(['course:manage-any']) }, course.id)).toBe(true);
    expect(await authorize(studentPrincipal(t.student.userId), 'crs_missing')).toBe(false);
  });
});

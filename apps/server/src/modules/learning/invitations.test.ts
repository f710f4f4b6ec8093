import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { signUp, uniqueEmail } from '../../../test/support/identity.js';
import { api, createCourse, eventsOf, learningApp, studentPrincipal, type LearningTestApp } from '../../../test/support/learning.js';

const DAY = 86_400_000;

describeEachDialect('learning: invitations', (dialect) => {
  let t: LearningTestApp;
  beforeAll(async () => {
    t = await learningApp({ dialect });
  }, 180_000);
  afterAll(() => t?.destroy());

  const invite = (courseId: string, body: object, as = t.teacher) => api(t, as, 'POST', `/courses/${courseId}/invitations`, body);

  it('a teacher invites a student by id; only that student sees and accepts it, and becomes active', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Invite-only seminar', visibility: 'private' });
    const res = await invite(course.id, { userId: t.student.userId });
    expect(res.statusCode, res.body).toBe(201);
    const invitation = res.json();
    expect(res.headers.location).toBe(`/api/v1/courses/${course.id}/invitations/${invitation.id}`);
    expect(invitation).toMatchObject({ courseId: course.id, courseTitle: 'Invite-only seminar', userId: t.student.userId, email: null, displayName: 'Student S', invitedBy: t.teacher.userId, status: 'pending' });
    expect(Date.parse(invitation.expiresAt) - Date.parse(invitation.createdAt)).toBe(14 * DAY);
    const created = (await eventsOf(t, 'learning.invitation.created')).at(-1)!;
    expect(created.scopes).toEqual([`user:${t.student.userId}`]);
    expect(created.payload).toEqual({ invitationId: invitation.id, courseId: course.id, courseTitle: 'Invite-only seminar', userId: t.student.userId, invitedBy: t.teacher.userId, expiresAt: invitation.expiresAt });

    const again = await invite(course.id, { userId: t.student.userId });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('LEARNING_ALREADY_INVITED');

    const mine = (await api(t, t.student, 'GET', '/me/course-invitations')).json();
    expect(mine.items.map((i: { id: string }) => i.id)).toContain(invitation.id);
    expect((await api(t, t.otherStudent, 'GET', '/me/course-invitations')).json().items.map((i: { id: string }) => i.id)).not.toContain(invitation.id);

    // Someone else's invitation does not exist for them; nothing changes.
    const stolen = await api(t, t.otherStudent, 'POST', `/me/course-invitations/${invitation.id}/accept`);
    expect(stolen.statusCode).toBe(404);
    expect(stolen.json().code).toBe('LEARNING_INVITATION_NOT_FOUND');
    expect((await api(t, t.otherStudent, 'POST', `/me/course-invitations/${invitation.id}/decline`)).statusCode).toBe(404);
    expect(await t.learning.membership.roleIn(course.id, t.otherStudent.userId)).toBeNull();

    const accepted = await api(t, t.student, 'POST', `/me/course-invitations/${invitation.id}/accept`);
    expect(accepted.statusCode, accepted.body).toBe(201);
    expect(accepted.json()).toMatchObject({ courseId: course.id, userId: t.student.userId, status: 'active' });
    expect(await t.learning.membership.roleIn(course.id, t.student.userId)).toBe('student');
    expect((await api(t, t.teacher, 'GET', `/courses/${course.id}`)).json().enrolledCount).toBe(1);
    expect((await eventsOf(t, 'learning.enrollment.activated')).at(-1)?.payload).toEqual({ courseId: course.id, userId: t.student.userId, courseTitle: 'Invite-only seminar' });
    const acceptedEvent = (await eventsOf(t, 'learning.invitation.accepted')).at(-1)!;
    expect(acceptedEvent.payload).toMatchObject({ invitationId: invitation.id, userId: t.student.userId });
    expect(acceptedEvent.scopes.sort()).toEqual([`course:${course.id}`, `user:${t.student.userId}`].sort());

    const twice = await api(t, t.student, 'POST', `/me/course-invitations/${invitation.id}/accept`);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('LEARNING_INVITATION_STATE');
    const list = (await api(t, t.teacher, 'GET', `/courses/${course.id}/invitations`)).json();
    expect(list.items).toMatchObject([{ id: invitation.id, status: 'accepted' }]);
    expect((await api(t, t.teacher, 'DELETE', `/courses/${course.id}/invitations/${invitation.id}`)).statusCode).toBe(409);
    // Already enrolled: inviting again by id says so.
    expect((await invite(course.id, { userId: t.student.userId })).json().code).toBe('LEARNING_ALREADY_ENROLLED');
  });

  it('only the course’s teachers and admins invite and list; a bad body is 422', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Guarded', visibility: 'private' });
    expect((await invite(course.id, { userId: t.otherStudent.userId }, t.student)).statusCode).toBe(403);
    expect((await invite(course.id, { userId: t.otherStudent.userId }, t.otherTeacher)).statusCode).toBe(403);
    expect((await api(t, t.student, 'GET', `/courses/${course.id}/invitations`)).statusCode).toBe(403);
    expect((await invite(course.id, {})).statusCode).toBe(422);
    expect((await invite(course.id, { userId: t.student.userId, email: t.student.email })).statusCode).toBe(422);
    expect((await invite(course.id, { userId: 'usr_nobody' })).statusCode).toBe(422);
    expect((await invite(course.id, { userId: t.otherStudent.userId }, t.admin)).statusCode).toBe(201);
    expect((await api(t, t.teacher, 'GET', `/courses/${course.id}/invitations`)).json().items).toHaveLength(1);
  });

  it('an invitation by email looks the same whether or not the address has an account', async () => {
    const course = await createCourse(t, t.teacher, { title: 'By email', visibility: 'private' });
    const before = (await eventsOf(t, 'learning.invitation.created')).length;
    const known = await invite(course.id, { email: t.otherStudent.email.toUpperCase() });
    const unknown = await invite(course.id, { email: uniqueEmail('nobody') });
    expect(known.statusCode, known.body).toBe(201);
    expect(unknown.statusCode).toBe(201);
    const shape = (body: Record<string, unknown>) => Object.fromEntries(Object.entries(body).filter(([k]) => !['id', 'email', 'createdAt', 'expiresAt'].includes(k)));
    expect(shape(known.json())).toEqual(shape(unknown.json()));
    expect(known.json()).toMatchObject({ userId: null, displayName: null, email: t.otherStudent.email.toLowerCase(), status: 'pending' });
    // Inviting either address twice is refused the same way.
    expect((await invite(course.id, { email: t.otherStudent.email })).json().code).toBe('LEARNING_ALREADY_INVITED');
    expect((await invite(course.id, { email: unknown.json().email })).json().code).toBe('LEARNING_ALREADY_INVITED');
    // Only the account's own user scope hears of it: nothing in the course room.
    const created = (await eventsOf(t, 'learning.invitation.created')).slice(before);
    expect(created.map((e) => e.scopes)).toEqual([[`user:${t.otherStudent.userId}`]]);

    const inCourse = async () => (await api(t, t.otherStudent, 'GET', '/me/course-invitations')).json().items.filter((i: { courseId: string }) => i.courseId === course.id);
    const mine = await inCourse();
    expect(mine).toMatchObject([{ id: known.json().id, userId: t.otherStudent.userId, courseTitle: 'By email' }]);
    const declined = await api(t, t.otherStudent, 'POST', `/me/course-invitations/${known.json().id}/decline`);
    expect(declined.statusCode, declined.body).toBe(200);
    expect(declined.json().status).toBe('declined');
    expect((await eventsOf(t, 'learning.invitation.declined')).at(-1)?.payload).toMatchObject({ invitationId: known.json().id, userId: t.otherStudent.userId });
    expect(await inCourse()).toEqual([]);
    expect(await t.learning.membership.roleIn(course.id, t.otherStudent.userId)).toBeNull();
  });

  it('a revoked invitation cannot be accepted; revoking is idempotent', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Revoked', visibility: 'private' });
    const invitation = (await invite(course.id, { userId: t.student.userId })).json();
    expect((await api(t, t.otherTeacher, 'DELETE', `/courses/${course.id}/invitations/${invitation.id}`)).statusCode).toBe(403);
    expect((await api(t, t.teacher, 'DELETE', `/courses/${course.id}/invitations/${invitation.id}`)).statusCode).toBe(204);
    expect((await api(t, t.teacher, 'DELETE', `/courses/${course.id}/invitations/${invitation.id}`)).statusCode).toBe(204);
    expect((await eventsOf(t, 'learning.invitation.revoked')).filter((e) => (e.payload as { invitationId: string }).invitationId === invitation.id)).toHaveLength(1);
    const res = await api(t, t.student, 'POST', `/me/course-invitations/${invitation.id}/accept`);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('LEARNING_INVITATION_STATE');
    expect(await t.learning.membership.roleIn(course.id, t.student.userId)).toBeNull();
    // A new one may be sent once the old one is closed.
    expect((await invite(course.id, { userId: t.student.userId })).statusCode).toBe(201);
  });

  it('a full course refuses the acceptance with 409 and keeps the invitation pending', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Full house', visibility: 'private', capacity: 1 });
    await api(t, t.teacher, 'POST', `/courses/${course.id}/enrollments`, { userId: t.otherStudent.userId });
    const invitation = (await invite(course.id, { userId: t.student.userId })).json();
    const res = await api(t, t.student, 'POST', `/me/course-invitations/${invitation.id}/accept`);
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('LEARNING_COURSE_FULL');
    expect((await api(t, t.teacher, 'GET', `/courses/${course.id}/invitations`)).json().items[0].status).toBe('pending');
    expect((await api(t, t.teacher, 'GET', `/courses/${course.id}`)).json().enrolledCount).toBe(1);
  });

  it('capacity holds when invitees accept at once: capacity 2, four acceptances → two', async () => {
    const course = await createCourse(t, t.teacher, { title: 'Two seats', visibility: 'private', capacity: 2 });
    const invitees = [t.student, t.otherStudent, await signUp(t), await signUp(t)];
    const ids: string[] = [];
    for (const user of invitees) ids.push((await invite(course.id, { userId: user.userId })).json().id as string);
    const results = await Promise.allSettled(invitees.map((user, i) => t.learning.invitations.accept(studentPrincipal(user.userId), ids[i]!)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as { code?: string }).code)).toEqual(['LEARNING_COURSE_FULL', 'LEARNING_COURSE_FULL']);
    expect((await api(t, t.teacher, 'GET', `/courses/${course.id}`)).json().enrolledCount).toBe(2);
    expect((await api(t, t.teacher, 'GET', `/courses/${course.id}/enrollments?status=active`)).json().items).toHaveLength(2);
  });

  it('invitations expire; the window is enforced at acceptance', async () => {
    const now = t.clock.now().getTime();
    const course = await createCourse(t, t.teacher, { title: 'Expiring', visibility: 'private', enrollmentClosesAt: new Date(now + 20 * DAY).toISOString() });
    const late = (await invite(course.id, { userId: t.student.userId })).json();
    const windowed = await createCourse(t, t.teacher, { title: 'Closing soon', visibility: 'private', enrollmentClosesAt: new Date(now + DAY).toISOString() });
    const closed = (await invite(windowed.id, { userId: t.student.userId })).json();
    // Access tokens live minutes: past this point the services are called directly.
    try {
      t.clock.advance(2 * DAY);
      await expect(t.learning.invitations.accept(studentPrincipal(t.student.userId), closed.id)).rejects.toMatchObject({ code: 'LEARNING_ENROLLMENT_CLOSED' });
      t.clock.advance(13 * DAY);
      const mine = await t.learning.invitations.mine(studentPrincipal(t.student.userId), {});
      expect(mine.items.map((i) => i.id)).not.toContain(late.id);
      await expect(t.learning.invitations.accept(studentPrincipal(t.student.userId), late.id)).rejects.toMatchObject({ status: 409, code: 'LEARNING_INVITATION_EXPIRED' });
      const teacher = { kind: 'user' as const, userId: t.teacher.userId, roles: ['teacher'], permissions: new Set(['course:enroll']) };
      expect((await t.learning.invitations.list(teacher, course.id, { status: 'expired' })).items.map((i) => i.id)).toEqual([late.id]);
      // A new invitation replaces the expired one.
      const renewed = await t.learning.invitations.invite(teacher, course.id, { userId: t.student.userId });
      expect(renewed.status).toBe('pending');
      expect((await t.learning.invitations.accept(studentPrincipal(t.student.userId), renewed.id)).status).toBe('active');
    } finally {
      t.clock.set(now);
    }
  });
});

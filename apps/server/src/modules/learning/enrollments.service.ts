import type { Tx } from '../../core/db/database.js';
import { isDbError } from '../../core/db/errors.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { Principal } from '../../core/http/access.js';
import { toPage, type Page } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import { canSeeCourse, isCourseAdmin, type CourseAccess, type CourseService, type LearningContext } from './courses.service.js';
import { conflict, courseNotFound, enrollmentNotFound, forbidden, LearningErrors } from './learning.errors.js';
import {
  LearningEvents,
  type EnrollmentActivatedPayload,
  type EnrollmentEndedPayload,
  type EnrollmentRejectedPayload,
  type EnrollmentRequestedPayload,
} from './learning.events.js';
import { learningRepo } from './learning.repo.js';
import type { EnrollmentCreate, EnrollmentPatch, EnrollmentQuery, EnrollmentView } from './learning.schemas.js';
import type { CourseRow, EnrollmentRow } from './learning.tables.js';
import type { CourseProgressView } from './progress.schemas.js';

export function enrollmentView(row: EnrollmentRow, displayName: string | null): EnrollmentView {
  return {
    id: row.id,
    courseId: row.course_id,
    userId: row.user_id,
    displayName,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    activatedAt: row.activated_at,
    endedAt: row.ended_at,
    version: row.version,
  };
}

/**
 * Enrollment: self-enrollment in public and unlisted courses, request-and-approve for private ones,
 * teachers adding, approving and removing students. Capacity is a seat counter taken with one
 * conditional UPDATE in the enrolling transaction, so concurrent enrollments never overfill a course.
 */
export function createEnrollmentService(
  ctx: LearningContext & { courses: CourseService; progressOf?: (courseId: string, courseTitle: string, userId: string) => Promise<CourseProgressView> },
) {
  const { database, clock, events, cursors, users, courses, progressOf } = ctx;
  const { db } = database;
  const dialect = database.dialect.name;
  const repo = (handle: typeof db | Tx = db) => learningRepo(handle, dialect);
  const iso = () => clock.now().toISOString();
  const scopes = (courseId: string, userId: string) => [`user:${userId}`, `course:${courseId}`];

  async function nameOf(userId: string): Promise<string | null> {
    return (await users.lookup([userId])).get(userId)?.displayName ?? null;
  }

  /** The enrollment a caller may see: their own, or any of a course they manage. */
  async function readable(principal: Principal, courseId: string, userId: string): Promise<{ access: CourseAccess; target: string }> {
    const target = userId === 'me' ? principal.userId : userId;
    const access = await courses.accessOf(principal, courseId);
    const own = target === principal.userId;
    if (!access || (!canSeeCourse(access) && !(own && access.enrollment))) throw courseNotFound();
    if (!own && !access.staff) throw enrollmentNotFound();
    return { access, target };
  }

  const alreadyEnrolled = (err: unknown) =>
    isDbError(err, 'unique') ? conflict(LearningErrors.LEARNING_ALREADY_ENROLLED, 'There is already an enrollment for this student in this course.') : err;

  /** Activates (taking a seat) or records a pending request, creating or reusing the enrollment row. */
  async function enrollIn(tx: Tx, course: CourseRow, userId: string, status: 'active' | 'pending', source: 'self' | 'staff' | 'invitation', actorId: string): Promise<EnrollmentRow> {
    const r = repo(tx);
    const now = iso();
    if (status === 'active' && !(await r.takeSeat(course.id))) throw conflict(LearningErrors.LEARNING_COURSE_FULL, 'The course is full.');
    const existing = await r.findEnrollment(course.id, userId);
    let row: EnrollmentRow;
    if (existing) {
      if (existing.status === 'active') throw conflict(LearningErrors.LEARNING_ALREADY_ENROLLED, 'The student is already enrolled.');
      if (existing.status === 'pending' && status === 'pending') throw conflict(LearningErrors.LEARNING_ALREADY_ENROLLED, 'The request is already waiting for approval.');
      if (source === 'self' && existing.status === 'removed') {
        throw conflict(LearningErrors.LEARNING_ENROLLMENT_STATE, 'A teacher removed you from this course; ask them to add you again.');
      }
      const changes: Partial<EnrollmentRow> = { status, source, updated_at: now, activated_at: status === 'active' ? now : null, ended_at: null };
      if (!(await r.updateEnrollment(existing.id, existing.version, changes))) throw conflict(LearningErrors.LEARNING_ENROLLMENT_STATE, 'The enrollment changed meanwhile; retry.');
      row = { ...existing, ...changes, version: existing.version + 1 };
    } else {
      row = { id: newId('enr'), course_id: course.id, user_id: userId, status, source, version: 1, created_at: now, updated_at: now, activated_at: status === 'active' ? now : null, ended_at: null };
      await r.insertEnrollment(row);
    }
    if (status === 'active') {
      await events.append<EnrollmentActivatedPayload>(tx, { type: LearningEvents.enrollmentActivated, scopes: scopes(course.id, userId), payload: { courseId: course.id, userId, courseTitle: course.title }, actorId });
    } else {
      await events.append<EnrollmentRequestedPayload>(tx, { type: LearningEvents.enrollmentRequested, scopes: scopes(course.id, userId), payload: { courseId: course.id, userId }, actorId });
    }
    return row;
  }

  /** The course must be published and inside its enrollment window (self-enrollment, accepted invitations). */
  function assertOpen(course: CourseRow) {
    if (course.status !== 'published') throw conflict(LearningErrors.LEARNING_COURSE_NOT_OPEN, 'The course is not open for enrollment.');
    const now = clock.now().getTime();
    if ((course.enroll_opens_at && now < Date.parse(course.enroll_opens_at)) || (course.enroll_closes_at && now >= Date.parse(course.enroll_closes_at))) {
      throw conflict(LearningErrors.LEARNING_ENROLLMENT_CLOSED, 'Enrollment is closed for this course.');
    }
  }

  return {
    /**
     * Activates an invited student inside the caller's transaction: the same path as every other
     * activation (window, seat counter, events). Invitations skip course prerequisites, like a teacher's add.
     */
    async activateInvited(tx: Tx, course: CourseRow, userId: string): Promise<EnrollmentRow> {
      assertOpen(course);
      try {
        return await enrollIn(tx, course, userId, 'active', 'invitation', userId);
      } catch (err) {
        throw alreadyEnrolled(err);
      }
    },

    async enroll(principal: Principal, courseId: string, input: EnrollmentCreate): Promise<EnrollmentView> {
      const target = input.userId === undefined || input.userId === 'me' ? principal.userId : input.userId;
      const self = target === principal.userId;
      const before = await courses.visible(principal, courseId);
      if (!self && !before.staff) throw forbidden('Only the course’s teachers and administrators may enroll someone else.');
      const name = await nameOf(target);
      if (!self && name === null) throw new AppError(422, LearningErrors.LEARNING_INVALID, 'No such user.', { errors: [{ path: '/body/userId', message: 'no such user' }] });
      try {
        const row = await withTransaction(db, async (tx) => {
          const access = await courses.accessOf(principal, courseId, tx);
          if (!access || !canSeeCourse(access)) throw courseNotFound();
          const { course } = access;
          if (self) {
            assertOpen(course);
            const prerequisites = JSON.parse(course.prerequisites) as string[];
            if (prerequisites.length) {
              const done = await (tx as unknown as typeof db).selectFrom('learning_certificate').select('course_id').where('user_id', '=', target).where('course_id', 'in', prerequisites).execute();
              if (done.length < new Set(prerequisites).size) throw conflict(LearningErrors.LEARNING_PREREQUISITES, 'Complete the prerequisite courses first.');
            }
            return enrollIn(tx, course, target, course.visibility === 'private' && !access.staff ? 'pending' : 'active', 'self', principal.userId);
          }
          if (course.status === 'archived') throw conflict(LearningErrors.LEARNING_COURSE_NOT_OPEN, 'The course is archived.');
          return enrollIn(tx, course, target, 'active', 'staff', principal.userId);
        });
        return enrollmentView(row, name);
      } catch (err) {
        throw alreadyEnrolled(err);
      }
    },

    async get(principal: Principal, courseId: string, userId: string): Promise<EnrollmentView> {
      const { target } = await readable(principal, courseId, userId);
      const row = await repo().findEnrollment(courseId, target);
      if (!row) throw enrollmentNotFound();
      return enrollmentView(row, await nameOf(target));
    },

    async roster(principal: Principal, courseId: string, query: EnrollmentQuery): Promise<Page<EnrollmentView>> {
      const { course } = await courses.managed(principal, courseId);
      const limit = query.limit ?? 20;
      let after: string | undefined;
      if (query.cursor) {
        const [value] = cursors.decode(query.cursor);
        if (typeof value !== 'string') throw new AppError(400, 'PAGINATION_INVALID_CURSOR', 'The cursor is not one this server issued for this list.');
        after = value;
      }
      const rows = await repo().listEnrollments(courseId, query.status, after, limit + 1);
      const names = await users.lookup(rows.slice(0, limit).map((r) => r.user_id));
      const page = toPage(rows, limit, cursors, (r) => [r.id], (r) => enrollmentView(r, names.get(r.user_id)?.displayName ?? null));
      // The same numbers the student sees in GET /me/progress.
      if (progressOf) for (const item of page.items) if (item.status === 'active') item.progress = await progressOf(courseId, course.title, item.userId);
      return page;
    },

    /** Staff decide on a pending request: `active` approves (taking a seat), `rejected` declines. */
    async decide(principal: Principal, courseId: string, userId: string, patch: EnrollmentPatch, expected: number | undefined): Promise<EnrollmentView> {
      const { target } = await readable(principal, courseId, userId);
      const name = await nameOf(target);
      const row = await withTransaction(db, async (tx) => {
        const access = await courses.accessOf(principal, courseId, tx);
        if (!access?.staff) throw forbidden('Only the course’s teachers and administrators may approve enrollments.');
        const existing = await repo(tx).findEnrollment(courseId, target);
        if (!existing) throw enrollmentNotFound();
        if (expected !== undefined && expected !== existing.version) {
          throw new AppError(412, 'PRECONDITION_FAILED', `The resource has changed; its current version is ${existing.version}.`, { headers: { etag: `"${existing.version}"` } });
        }
        if (existing.status !== 'pending') throw conflict(LearningErrors.LEARNING_ENROLLMENT_STATE, `Only a pending request can be decided; this one is ${existing.status}.`);
        if (patch.status === 'active') return enrollIn(tx, access.course, target, 'active', 'staff', principal.userId);
        const now = iso();
        const changes: Partial<EnrollmentRow> = { status: 'rejected', updated_at: now, ended_at: now };
        if (!(await repo(tx).updateEnrollment(existing.id, existing.version, changes))) throw conflict(LearningErrors.LEARNING_ENROLLMENT_STATE, 'The enrollment changed meanwhile; retry.');
        await events.append<EnrollmentRejectedPayload>(tx, { type: LearningEvents.enrollmentRejected, scopes: scopes(courseId, target), payload: { courseId, userId: target }, actorId: principal.userId });
        return { ...existing, ...changes, version: existing.version + 1 };
      });
      return enrollmentView(row, name);
    },

    /**
     * The student withdraws (their own), or staff remove a student; a pending request is cancelled the
     * same way. Ending an enrollment that already ended changes nothing (DELETE is idempotent).
     */
    async end(principal: Principal, courseId: string, userId: string): Promise<void> {
      const { target } = await readable(principal, courseId, userId);
      await withTransaction(db, async (tx) => {
        const access = await courses.accessOf(principal, courseId, tx);
        if (!access) throw courseNotFound();
        const self = target === principal.userId;
        if (!self && !access.staff) throw enrollmentNotFound();
        const existing = await repo(tx).findEnrollment(courseId, target);
        if (!existing) throw enrollmentNotFound();
        // DELETE is idempotent: an enrollment that already ended stays as it is.
        if (existing.status !== 'active' && existing.status !== 'pending') return;
        const now = iso();
        const reason = self ? 'withdrawn' : 'removed';
        if (!(await repo(tx).updateEnrollment(existing.id, existing.version, { status: reason, updated_at: now, ended_at: now }))) {
          throw conflict(LearningErrors.LEARNING_ENROLLMENT_STATE, 'The enrollment changed meanwhile; retry.');
        }
        if (existing.status === 'active') {
          await repo(tx).releaseSeat(courseId);
          await events.append<EnrollmentEndedPayload>(tx, { type: LearningEvents.enrollmentEnded, scopes: scopes(courseId, target), payload: { courseId, userId: target, reason }, actorId: principal.userId });
        }
      });
    },
  };
}

export type EnrollmentService = ReturnType<typeof createEnrollmentService>;

export { isCourseAdmin };

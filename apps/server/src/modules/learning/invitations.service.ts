import type { Tx } from '../../core/db/database.js';
import { isDbError } from '../../core/db/errors.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { Principal } from '../../core/http/access.js';
import { toPage, type Page } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { CourseService, LearningContext } from './courses.service.js';
import { enrollmentView, type EnrollmentService } from './enrollments.service.js';
import { invitationsRepo, type InvitationFilter } from './invitations.repo.js';
import type { InvitationCreate, InvitationQuery, InvitationView } from './invitations.schemas.js';
import { conflict, invalid, invitationNotFound, LearningErrors } from './learning.errors.js';
import { LearningEvents, type InvitationPayload } from './learning.events.js';
import { learningRepo } from './learning.repo.js';
import type { EnrollmentView } from './learning.schemas.js';
import type { InvitationRow } from './learning.tables.js';

const DAY_MS = 86_400_000;

/**
 * Invitations to courses. A teacher invites by user id, or by email: an invitation by email looks
 * the same to the teacher whether or not an account has that address (no user id, no name, no
 * event in the course's room), so inviting never tells anyone which addresses have accounts.
 * Accepting goes through the enrollment service's activation: window and seat counter as always.
 */
export function createInvitationService(ctx: LearningContext & { courses: CourseService; enrollments: EnrollmentService; ttlDays: number }) {
  const { database, clock, events, cursors, users, courses, enrollments, ttlDays } = ctx;
  const { db } = database;
  const repo = (handle: typeof db | Tx = db) => invitationsRepo(handle);
  const iso = () => clock.now().toISOString();

  const isExpired = (row: InvitationRow, now: string) => row.status === 'pending' && row.expires_at <= now;

  /** The invitation as `viewer` sees it: teachers never see who is behind an invitation by email. */
  function view(row: InvitationRow, courseTitle: string, viewer: 'teacher' | 'invitee', name: string | null): InvitationView {
    const showUser = viewer === 'invitee' || row.email === null;
    return {
      id: row.id,
      courseId: row.course_id,
      courseTitle,
      userId: showUser ? row.user_id : null,
      email: row.email,
      displayName: showUser ? name : null,
      invitedBy: row.invited_by,
      status: isExpired(row, iso()) ? 'expired' : row.status,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      decidedAt: row.decided_at,
      version: row.version,
    };
  }

  function afterId(cursor: string | undefined): string | undefined {
    if (!cursor) return undefined;
    const [value] = cursors.decode(cursor);
    if (typeof value !== 'string') throw new AppError(400, 'PAGINATION_INVALID_CURSOR', 'The cursor is not one this server issued for this list.');
    return value;
  }

  const payloadOf = (row: InvitationRow, courseTitle: string): InvitationPayload => ({
    invitationId: row.id,
    courseId: row.course_id,
    courseTitle,
    userId: row.user_id!,
    invitedBy: row.invited_by,
    expiresAt: row.expires_at,
  });

  /** The caller's own invitation (404 for anyone else's), with its course, inside `tx`. */
  async function own(tx: Tx, principal: Principal, id: string) {
    const row = await repo(tx).find(id);
    if (!row || row.user_id !== principal.userId) throw invitationNotFound();
    const course = await learningRepo(tx, database.dialect.name).findCourse(row.course_id);
    if (!course) throw invitationNotFound();
    if (row.status !== 'pending') throw conflict(LearningErrors.LEARNING_INVITATION_STATE, `The invitation is ${row.status}.`);
    if (isExpired(row, iso())) throw conflict(LearningErrors.LEARNING_INVITATION_EXPIRED, 'The invitation has expired; ask the teacher for a new one.');
    return { row, course };
  }

  return {
    async invite(principal: Principal, courseId: string, input: InvitationCreate): Promise<InvitationView> {
      if ((input.userId === undefined) === (input.email === undefined)) throw invalid('Give exactly one of userId and email.', '/body');
      const { course } = await courses.managed(principal, courseId);
      if (course.status === 'archived') throw conflict(LearningErrors.LEARNING_COURSE_NOT_OPEN, 'The course is archived.');
      const email = input.email?.trim().toLowerCase() ?? null;
      let userId: string | null;
      let name: string | null = null;
      if (input.userId !== undefined) {
        name = (await users.lookup([input.userId])).get(input.userId)?.displayName ?? null;
        if (name === null) throw invalid('No such user.', '/body/userId');
        userId = input.userId;
      } else {
        userId = await users.idByEmail(email!);
      }
      const now = iso();
      const row: InvitationRow = {
        id: newId('inv'),
        course_id: courseId,
        user_id: userId,
        email,
        status: 'pending',
        open_key: `${courseId}:${email ?? userId}`,
        invited_by: principal.userId,
        created_at: now,
        expires_at: new Date(clock.now().getTime() + ttlDays * DAY_MS).toISOString(),
        decided_at: null,
        version: 1,
      };
      try {
        await withTransaction(db, async (tx) => {
          // By user id the teacher may learn the student is enrolled (the roster shows it anyway); by email not.
          if (email === null) {
            const enrollment = await learningRepo(tx, database.dialect.name).findEnrollment(courseId, userId!);
            if (enrollment?.status === 'active') throw conflict(LearningErrors.LEARNING_ALREADY_ENROLLED, 'The student is already enrolled.');
          }
          const open = await repo(tx).findOpen(row.open_key!);
          if (open && !isExpired(open, now)) throw conflict(LearningErrors.LEARNING_ALREADY_INVITED, 'An invitation for this person is already pending.');
          // An expired invitation keeps its status (shown as expired) and frees the key.
          if (open) await repo(tx).update(open.id, open.version, { open_key: null });
          await repo(tx).insert(row);
          if (userId !== null) {
            await events.append<InvitationPayload>(tx, { type: LearningEvents.invitationCreated, scopes: [`user:${userId}`], payload: payloadOf(row, course.title), actorId: principal.userId });
          }
        });
      } catch (err) {
        if (isDbError(err, 'unique')) throw conflict(LearningErrors.LEARNING_ALREADY_INVITED, 'An invitation for this person is already pending.');
        throw err;
      }
      return view(row, course.title, 'teacher', name);
    },

    async list(principal: Principal, courseId: string, query: InvitationQuery): Promise<Page<InvitationView>> {
      const { course } = await courses.managed(principal, courseId);
      const limit = query.limit ?? 20;
      const rows = await repo().listForCourse(courseId, query.status as InvitationFilter | undefined, iso(), afterId(query.cursor), limit + 1);
      const names = await users.lookup(rows.slice(0, limit).flatMap((r) => (r.user_id && r.email === null ? [r.user_id] : [])));
      return toPage(rows, limit, cursors, (r) => [r.id], (r) => view(r, course.title, 'teacher', r.user_id ? (names.get(r.user_id)?.displayName ?? null) : null));
    },

    /** Revokes a pending (or expired) invitation; one already declined or revoked stays as it is. */
    async revoke(principal: Principal, courseId: string, invitationId: string): Promise<void> {
      const { course } = await courses.managed(principal, courseId);
      await withTransaction(db, async (tx) => {
        const row = await repo(tx).find(invitationId);
        if (!row || row.course_id !== courseId) throw invitationNotFound();
        if (row.status === 'accepted') throw conflict(LearningErrors.LEARNING_INVITATION_STATE, 'The invitation was accepted: remove the student from the roster instead.');
        if (row.status !== 'pending') return;
        if (!(await repo(tx).update(row.id, row.version, { status: 'revoked', open_key: null, decided_at: iso() }))) {
          throw conflict(LearningErrors.LEARNING_INVITATION_STATE, 'The invitation changed meanwhile; retry.');
        }
        if (row.user_id !== null) {
          await events.append<InvitationPayload>(tx, { type: LearningEvents.invitationRevoked, scopes: [`user:${row.user_id}`], payload: payloadOf(row, course.title), actorId: principal.userId });
        }
      });
    },

    /** The caller's open invitations (pending, not expired). */
    async mine(principal: Principal, query: { limit?: number; cursor?: string }): Promise<Page<InvitationView>> {
      const limit = query.limit ?? 20;
      const rows = await repo().listOpenForUser(principal.userId, iso(), afterId(query.cursor), limit + 1);
      const name = (await users.lookup([principal.userId])).get(principal.userId)?.displayName ?? null;
      return toPage(rows, limit, cursors, (r) => [r.id], (r) => view(r, r.course_title, 'invitee', name));
    },

    /** The invitee accepts: an active enrollment, in the same transaction as the invitation's change. */
    async accept(principal: Principal, invitationId: string): Promise<EnrollmentView> {
      const enrollment = await withTransaction(db, async (tx) => {
        const { row, course } = await own(tx, principal, invitationId);
        const enrolled = await enrollments.activateInvited(tx, course, principal.userId);
        if (!(await repo(tx).update(row.id, row.version, { status: 'accepted', open_key: null, decided_at: iso() }))) {
          throw conflict(LearningErrors.LEARNING_INVITATION_STATE, 'The invitation changed meanwhile; retry.');
        }
        await events.append<InvitationPayload>(tx, {
          type: LearningEvents.invitationAccepted,
          scopes: [`user:${principal.userId}`, `course:${course.id}`],
          payload: payloadOf(row, course.title),
          actorId: principal.userId,
        });
        return enrolled;
      });
      const name = (await users.lookup([principal.userId])).get(principal.userId)?.displayName ?? null;
      return enrollmentView(enrollment, name);
    },

    async decline(principal: Principal, invitationId: string): Promise<InvitationView> {
      const { row, title } = await withTransaction(db, async (tx) => {
        const { row, course } = await own(tx, principal, invitationId);
        const changes = { status: 'declined' as const, open_key: null, decided_at: iso() };
        if (!(await repo(tx).update(row.id, row.version, changes))) throw conflict(LearningErrors.LEARNING_INVITATION_STATE, 'The invitation changed meanwhile; retry.');
        await events.append<InvitationPayload>(tx, {
          type: LearningEvents.invitationDeclined,
          scopes: [`user:${principal.userId}`, `course:${course.id}`],
          payload: payloadOf(row, course.title),
          actorId: principal.userId,
        });
        return { row: { ...row, ...changes, version: row.version + 1 }, title: course.title };
      });
      const name = (await users.lookup([principal.userId])).get(principal.userId)?.displayName ?? null;
      return view(row, title, 'invitee', name);
    },
  };
}

export type InvitationService = ReturnType<typeof createInvitationService>;

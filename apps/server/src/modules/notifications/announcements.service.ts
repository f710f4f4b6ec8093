import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { Principal } from '../../core/http/access.js';
import { AppError, CoreErrors } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { JobQueue } from '../../core/jobs/types.js';
import type { EventLog } from '../../core/events/types.js';
import { NotificationsEvents } from './notifications.events.js';
import { NotificationsErrors } from './notifications.errors.js';
import { announcementsRepo } from './notifications.repo.js';
import type { AnnouncementCreate, AnnouncementView } from './notifications.schemas.js';
import { RECIPIENTS_PER_TRANSACTION, type NotificationsService } from './notifications.service.js';
import type { AnnouncementRow } from './notifications.tables.js';

export const FANOUT_JOB = 'notifications.announcement.fanout';
export const BATCH_JOB = 'notifications.announcement.batch';
/** Recipients per batch job: each batch is one transaction of inbox rows. */
export const BATCH_SIZE = RECIPIENTS_PER_TRANSACTION;

/** What notifications needs of learning (its public index), for course announcements. */
export interface CourseMembership {
  roleIn(courseId: string, userId: string): Promise<'staff' | 'student' | null>;
  memberIds(courseId: string): Promise<string[]>;
  title(courseId: string): Promise<string | null>;
}

const view = (row: AnnouncementRow): AnnouncementView => ({ id: row.id, courseId: row.course_id, authorId: row.author_id, title: row.title, body: row.body, createdAt: row.created_at });
const isCourseAdmin = (principal: Principal) => principal.roles.includes('admin') || principal.permissions.has('course:manage-any');

/** Teachers (staff of the course) and admins announce; every member's inbox receives it, through jobs in batches. */
export function createAnnouncements(deps: { db: Db; clock: Clock; events: EventLog; jobs: JobQueue; membership: CourseMembership; inbox: NotificationsService }) {
  const { db, clock, events, jobs, membership, inbox } = deps;
  const notFound = () => new AppError(404, NotificationsErrors.NOTIFICATIONS_COURSE_NOT_FOUND, 'No such course.');

  return {
    async create(principal: Principal, courseId: string, input: AnnouncementCreate): Promise<AnnouncementView> {
      // Read before the transaction (SQLite has one connection).
      const role = await membership.roleIn(courseId, principal.userId);
      if (role !== 'staff' && !(isCourseAdmin(principal) && (await membership.title(courseId)) !== null)) {
        if (role === 'student') throw new AppError(403, CoreErrors.FORBIDDEN, 'Only the course’s teachers may announce.');
        throw notFound();
      }
      const row: AnnouncementRow = { id: newId('ann'), course_id: courseId, author_id: principal.userId, title: input.title.trim(), body: input.body.trim(), created_at: clock.now().toISOString() };
      await withTransaction(db, async (tx) => {
        await announcementsRepo(tx).insert(row);
        await events.append(tx, { type: NotificationsEvents.announcementCreated, scopes: [`course:${courseId}`], payload: { announcement: view(row) }, actorId: principal.userId });
        await jobs.enqueue(tx, FANOUT_JOB, { announcementId: row.id }, { uniqueKey: `${FANOUT_JOB}:${row.id}` });
      });
      return view(row);
    },

    async get(principal: Principal, courseId: string, id: string): Promise<AnnouncementView> {
      const row = await announcementsRepo(db).find(id);
      if (!row || row.course_id !== courseId) throw new AppError(404, NotificationsErrors.NOTIFICATIONS_ANNOUNCEMENT_NOT_FOUND, 'No such announcement.');
      if (!isCourseAdmin(principal) && (await membership.roleIn(courseId, principal.userId)) === null) throw new AppError(404, NotificationsErrors.NOTIFICATIONS_ANNOUNCEMENT_NOT_FOUND, 'No such announcement.');
      return view(row);
    },

    /** Splits the members into batch jobs (each a unique key, so a rerun adds none). */
    async fanout(announcementId: string): Promise<void> {
      const row = await announcementsRepo(db).find(announcementId);
      if (!row) return;
      const members = (await membership.memberIds(row.course_id)).filter((id) => id !== row.author_id).sort();
      const batches = Array.from({ length: Math.ceil(members.length / BATCH_SIZE) }, (_, n) => ({
        name: BATCH_JOB,
        payload: { announcementId, userIds: members.slice(n * BATCH_SIZE, (n + 1) * BATCH_SIZE) },
        options: { uniqueKey: `${BATCH_JOB}:${announcementId}:${n}` },
      }));
      await jobs.enqueueMany(db, batches);
    },

    /** Stores one batch of inbox entries (receipts make a retried batch add nothing). */
    async deliverBatch(announcementId: string, userIds: string[]): Promise<void> {
      const row = await announcementsRepo(db).find(announcementId);
      if (!row) return;
      const course = (await membership.title(row.course_id)) ?? 'Your course';
      await inbox.deliver(
        userIds.map((userId) => ({
          userId,
          category: 'announcement' as const,
          type: NotificationsEvents.announcementCreated,
          title: `${course}: ${row.title}`.slice(0, 300),
          body: row.body.slice(0, 1000),
          link: `/courses/${row.course_id}/announcements/${row.id}`,
          entity: { type: 'announcement', id: row.id },
          actorId: row.author_id,
          sourceKey: `announcement:${row.id}`,
          sourceSeq: 0,
        })),
      );
    },
  };
}

export type Announcements = ReturnType<typeof createAnnouncements>;

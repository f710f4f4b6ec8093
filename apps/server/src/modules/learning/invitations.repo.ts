import type { Kysely, Transaction } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import type { InvitationRow, LearningTables } from './learning.tables.js';

type LDb = Kysely<LearningTables> | Transaction<LearningTables>;

/** What a list may filter on: a stored status, or the two faces of a pending one (open, expired). */
export type InvitationFilter = 'pending' | 'expired' | 'accepted' | 'declined' | 'revoked';

/** Kysely queries on learning_invitation. */
export function invitationsRepo(handle: Db | Tx) {
  const db = handle as unknown as LDb;
  return {
    find: (id: string) => db.selectFrom('learning_invitation').selectAll().where('id', '=', id).executeTakeFirst(),

    findOpen: (openKey: string) => db.selectFrom('learning_invitation').selectAll().where('open_key', '=', openKey).executeTakeFirst(),

    insert: (row: InvitationRow) => db.insertInto('learning_invitation').values(row).execute(),

    /** Updates when the version still matches; false when someone changed it first. */
    async update(id: string, version: number, changes: Partial<InvitationRow>): Promise<boolean> {
      const result = await db.updateTable('learning_invitation').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** A course's invitations in id order (keyset), filtered as of `now`. */
    async listForCourse(courseId: string, filter: InvitationFilter | undefined, now: string, afterId: string | undefined, limit: number): Promise<InvitationRow[]> {
      let q = db.selectFrom('learning_invitation').selectAll().where('course_id', '=', courseId);
      if (filter === 'pending') q = q.where('status', '=', 'pending').where('expires_at', '>', now);
      else if (filter === 'expired') q = q.where('status', '=', 'pending').where('expires_at', '<=', now);
      else if (filter) q = q.where('status', '=', filter);
      if (afterId) q = q.where('id', '>', afterId);
      return q.orderBy('id').limit(limit).execute();
    },

    /** The user's open invitations (pending, not expired) with their course's title, in id order. */
    listOpenForUser(userId: string, now: string, afterId: string | undefined, limit: number) {
      let q = db
        .selectFrom('learning_invitation')
        .innerJoin('learning_course', 'learning_course.id', 'learning_invitation.course_id')
        .selectAll('learning_invitation')
        .select('learning_course.title as course_title')
        .where('learning_invitation.user_id', '=', userId)
        .where('learning_invitation.status', '=', 'pending')
        .where('learning_invitation.expires_at', '>', now);
      if (afterId) q = q.where('learning_invitation.id', '>', afterId);
      return q.orderBy('learning_invitation.id').limit(limit).execute();
    },
  };
}

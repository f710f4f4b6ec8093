import type { Kysely } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import type { Category } from './notifications.schemas.js';
import type { DigestRow, NotificationRow, NotificationsTables, PreferenceRow } from './notifications.tables.js';

type Executor = Kysely<NotificationsTables>;

/** Queries for digests: due preference rows, the unseen entries of a window, and the once-only digest rows. */
export function digestsRepo(handle: Db | Tx) {
  const db = handle as unknown as Executor;
  return {
    /** Preference rows whose next digest window closed at or before `cutoff`, in (digest_next_at, user_id) order after `after`. */
    due(cutoff: string, after: [string, string] | undefined, limit: number): Promise<PreferenceRow[]> {
      let query = db.selectFrom('notifications_preference').selectAll().where('digest_next_at', 'is not', null).where('digest_next_at', '<=', cutoff);
      if (after) {
        const [at, userId] = after;
        query = query.where((eb) => eb.or([eb('digest_next_at', '>', at), eb.and([eb('digest_next_at', '=', at), eb('user_id', '>', userId)])]));
      }
      return query.orderBy('digest_next_at').orderBy('user_id').limit(limit).execute() as Promise<PreferenceRow[]>;
    },

    /** Moves the user's next digest time forward, unless the preferences changed meanwhile (they computed their own). */
    async advance(userId: string, version: number, nextAt: string | null): Promise<void> {
      await db.updateTable('notifications_preference').set({ digest_next_at: nextAt }).where('user_id', '=', userId).where('version', '=', version).execute();
    },

    /**
     * The user's unread entries of these categories that arrived in [start, end) and were not
     * emailed on their own (no `sent` email delivery), newest first, at most `limit`; and how many in all.
     */
    async unseen(userId: string, categories: readonly Category[], start: string, end: string, limit: number): Promise<{ rows: NotificationRow[]; total: number }> {
      const base = db
        .selectFrom('notifications_notification as n')
        .where('n.user_id', '=', userId)
        .where('n.read_at', 'is', null)
        .where('n.category', 'in', [...categories])
        .where('n.updated_at', '>=', start)
        .where('n.updated_at', '<', end)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('notifications_delivery as d').select('d.id').whereRef('d.notification_id', '=', 'n.id').where('d.channel', '=', 'email').where('d.status', '=', 'sent'))),
        );
      const rows = (await base.selectAll('n').orderBy('n.updated_at', 'desc').orderBy('n.id', 'desc').limit(limit).execute()) as NotificationRow[];
      if (rows.length < limit) return { rows, total: rows.length };
      const count = await base.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirst();
      return { rows, total: Number(count?.n ?? rows.length) };
    },

    /** Inserts the digest row; false when this (user, cadence, window start) already has one. */
    async claim(row: DigestRow): Promise<boolean> {
      const inserted = await db
        .insertInto('notifications_digest')
        .values(row)
        .onConflict((oc) => oc.columns(['user_id', 'cadence', 'window_start']).doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async setMailJob(id: string, jobId: string): Promise<void> {
      await db.updateTable('notifications_digest').set({ mail_job_id: jobId }).where('id', '=', id).execute();
    },

    sentTo: (userId: string, limit = 50) =>
      db.selectFrom('notifications_digest').selectAll().where('user_id', '=', userId).orderBy('window_start', 'desc').limit(limit).execute() as Promise<DigestRow[]>,

    async deleteUser(userId: string): Promise<void> {
      await db.deleteFrom('notifications_digest').where('user_id', '=', userId).execute();
    },
  };
}

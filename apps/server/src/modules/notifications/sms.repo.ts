import type { Kysely } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import { inParts } from '../../core/db/parts.js';
import type { NotificationsTables, SmsCodeSentRow, SmsNumberRow } from './notifications.tables.js';

type Executor = Kysely<NotificationsTables>;

/** Queries on notifications_sms_number and notifications_sms_code_sent. */
export function smsRepo(handle: Db | Tx) {
  const db = handle as unknown as Executor;
  return {
    find: (userId: string) => db.selectFrom('notifications_sms_number').selectAll().where('user_id', '=', userId).executeTakeFirst() as Promise<SmsNumberRow | undefined>,

    async save(row: SmsNumberRow): Promise<void> {
      const { user_id, ...changes } = row;
      await db.insertInto('notifications_sms_number').values(row).onConflict((oc) => oc.column('user_id').doUpdateSet(changes)).execute();
    },

    /**
     * Uses up one try of the pending code before it is compared, in one statement, so that parallel
     * guesses cannot get more than `max` tries. False when none is left (or that code is gone).
     */
    async takeTry(userId: string, nonce: string, max: number, now: string): Promise<boolean> {
      const result = await db
        .updateTable('notifications_sms_number')
        .set((eb) => ({ code_attempts: eb('code_attempts', '+', 1), updated_at: now }))
        .where('user_id', '=', userId)
        .where('code_nonce', '=', nonce)
        .where('code_attempts', '<', max)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async verifiedPhone(userId: string): Promise<string | null> {
      const row = await db.selectFrom('notifications_sms_number').select('phone').where('user_id', '=', userId).where('phone', 'is not', null).executeTakeFirst();
      return row?.phone ?? null;
    },

    /** Which of these users have a verified number. */
    async usersWithVerifiedPhone(userIds: readonly string[]): Promise<Set<string>> {
      const users = new Set<string>();
      for (const part of inParts(userIds)) {
        for (const row of await db.selectFrom('notifications_sms_number').select('user_id').where('user_id', 'in', part).where('phone', 'is not', null).execute()) users.add(row.user_id);
      }
      return users;
    },

    async recordCodeSent(row: SmsCodeSentRow): Promise<void> {
      await db.insertInto('notifications_sms_code_sent').values(row).execute();
    },

    /** The codes sent since `since` to this user and to this number (by any user): how many, and the oldest. */
    async codesSentSince(userId: string, phoneHash: string, since: string): Promise<Array<{ count: number; oldest: string | null }>> {
      const tally = async (column: 'user_id' | 'phone_hash', value: string) => {
        const row = await db
          .selectFrom('notifications_sms_code_sent')
          .select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.min('created_at').as('oldest')])
          .where(column, '=', value)
          .where('created_at', '>=', since)
          .executeTakeFirst();
        return { count: Number(row?.n ?? 0), oldest: (row?.oldest as string | null | undefined) ?? null };
      };
      return [await tally('user_id', userId), await tally('phone_hash', phoneHash)];
    },

    /** Forgets the user's codes sent before `before` (they no longer count towards a limit). */
    async pruneCodesSent(userId: string, before: string): Promise<void> {
      await db.deleteFrom('notifications_sms_code_sent').where('user_id', '=', userId).where('created_at', '<', before).execute();
    },

    async remove(userId: string): Promise<void> {
      await db.deleteFrom('notifications_sms_number').where('user_id', '=', userId).execute();
    },

    async deleteUser(userId: string): Promise<void> {
      await db.deleteFrom('notifications_sms_number').where('user_id', '=', userId).execute();
      await db.deleteFrom('notifications_sms_code_sent').where('user_id', '=', userId).execute();
    },
  };
}

import { sql, type Kysely } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import { inParts } from '../../core/db/parts.js';
import type { Category } from './notifications.schemas.js';
import type { AnnouncementRow, DeliveryRow, NotificationRow, NotificationsTables, PreferenceRow, PushSubscriptionRow } from './notifications.tables.js';

type Executor = Kysely<NotificationsTables>;

export interface ListFilter {
  unread?: boolean;
  category?: Category;
  /** Keyset: entries after this (updatedAt, id) in newest-first order. */
  after?: [string, string];
  limit: number;
}

/** In a fold: the incoming value when its event is newer than the one the entry shows, else the stored one. */
const newest = (column: 'title' | 'body' | 'link' | 'actor_id' | 'type' | 'source_seq') =>
  sql<any>`case when excluded.source_seq >= notifications_notification.source_seq then excluded.${sql.ref(column)} else notifications_notification.${sql.ref(column)} end`;

/** Identifies a (user, key) pair: a receipt (user, source key) or an open group (user, group key). */
export const pairKey = (userId: string, key: string) => `${userId}\u0000${key}`;

/** Splits entries into rounds in which no open group appears twice, keeping each group's entries in order. */
function foldRounds(rows: readonly NotificationRow[]): NotificationRow[][] {
  const rounds: NotificationRow[][] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const group = row.group_key === null ? null : pairKey(row.user_id, row.group_key);
    const round = group === null ? 0 : (seen.get(group) ?? -1) + 1;
    if (group !== null) seen.set(group, round);
    (rounds[round] ??= []).push(row);
  }
  return rounds;
}

/** Kysely queries on the notifications_* inbox tables, and nothing else. */
export function notificationsRepo(handle: Db | Tx) {
  const db = handle as unknown as Executor;
  return {
    /** Records that each source reached its user; returns the receipts that were new (`pairKey`), not redeliveries. */
    async claimReceipts(receipts: ReadonlyArray<{ userId: string; sourceKey: string }>, now: string): Promise<Set<string>> {
      const claimed = new Set<string>();
      for (const part of inParts(receipts)) {
        const rows = await db
          .insertInto('notifications_receipt')
          .values(part.map((r) => ({ user_id: r.userId, source_key: r.sourceKey, created_at: now })))
          .onConflict((oc) => oc.columns(['user_id', 'source_key']).doNothing())
          .returning(['user_id', 'source_key'])
          .execute();
        for (const row of rows) claimed.add(pairKey(row.user_id, row.source_key));
      }
      return claimed;
    },

    /**
     * Inserts each entry, or folds it into its recipient's unread entry of the same group, in
     * multi-row upserts (the partial unique index is the arbiter, so concurrent folds never drift).
     * Returns the stored rows in the order given; a folded row keeps its existing id.
     */
    async insertOrFoldMany(rows: readonly NotificationRow[]): Promise<NotificationRow[]> {
      const stored = new Map<string, NotificationRow>();
      // An upsert may touch a row only once per statement: entries of the same group go in later rounds, in order.
      for (const round of foldRounds(rows)) {
        for (const part of inParts(round)) {
          const returned = (await db
            .insertInto('notifications_notification')
            .values(part)
            .onConflict((oc) =>
              oc
                .columns(['user_id', 'group_key'])
                .where('read_at', 'is', null)
                .where('group_key', 'is not', null)
                .doUpdateSet({
                  group_count: sql`notifications_notification.group_count + 1`,
                  // The text follows the newest event (by log seq), whatever order the events arrive in.
                  title: newest('title'),
                  body: newest('body'),
                  link: newest('link'),
                  actor_id: newest('actor_id'),
                  type: newest('type'),
                  source_seq: newest('source_seq'),
                  updated_at: (eb) => eb.ref('excluded.updated_at'),
                  version: sql`notifications_notification.version + 1`,
                }),
            )
            .returningAll()
            .execute()) as NotificationRow[];
          const given = new Map(part.map((row) => [row.id, row]));
          const byGroup = new Map(part.filter((row) => row.group_key !== null).map((row) => [pairKey(row.user_id, row.group_key!), row.id]));
          for (const row of returned) stored.set(given.has(row.id) ? row.id : byGroup.get(pairKey(row.user_id, row.group_key!))!, row);
        }
      }
      return rows.map((row) => stored.get(row.id)!);
    },

    find: (userId: string, id: string) =>
      db.selectFrom('notifications_notification').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst() as Promise<NotificationRow | undefined>,

    findById: (id: string) => db.selectFrom('notifications_notification').selectAll().where('id', '=', id).executeTakeFirst() as Promise<NotificationRow | undefined>,

    async list(userId: string, filter: ListFilter): Promise<NotificationRow[]> {
      let query = db.selectFrom('notifications_notification').selectAll().where('user_id', '=', userId);
      if (filter.unread === true) query = query.where('read_at', 'is', null);
      if (filter.unread === false) query = query.where('read_at', 'is not', null);
      if (filter.category) query = query.where('category', '=', filter.category);
      if (filter.after) {
        const [time, id] = filter.after;
        query = query.where((eb) => eb.or([eb('updated_at', '<', time), eb.and([eb('updated_at', '=', time), eb('id', '<', id)])]));
      }
      return (await query.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(filter.limit + 1).execute()) as NotificationRow[];
    },

    async unreadCount(userId: string): Promise<number> {
      const row = await db.selectFrom('notifications_notification').select((eb) => eb.fn.countAll<string | number>().as('n')).where('user_id', '=', userId).where('read_at', 'is', null).executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    /** Marks unread entries read; `ids` undefined means all of the user's. Returns the ids that changed. */
    async markRead(userId: string, ids: readonly string[] | undefined, now: string): Promise<string[]> {
      let query = db
        .updateTable('notifications_notification')
        .set({ read_at: now, version: sql`version + 1` as unknown as number })
        .where('user_id', '=', userId)
        .where('read_at', 'is', null);
      if (ids) query = query.where('id', 'in', [...ids]);
      return (await query.returning('id').execute()).map((r) => r.id);
    },

    async markEntityRead(userId: string, entity: { type: string; id: string }, categories: readonly Category[], now: string): Promise<string[]> {
      return (
        await db
          .updateTable('notifications_notification')
          .set({ read_at: now, version: sql`version + 1` as unknown as number })
          .where('user_id', '=', userId)
          .where('entity_type', '=', entity.type)
          .where('entity_id', '=', entity.id)
          .where('category', 'in', [...categories])
          .where('read_at', 'is', null)
          .returning('id')
          .execute()
      ).map((r) => r.id);
    },

    async delete(userId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('notifications_notification').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    async deleteUser(userId: string): Promise<void> {
      await db.deleteFrom('notifications_notification').where('user_id', '=', userId).execute();
      await db.deleteFrom('notifications_receipt').where('user_id', '=', userId).execute();
    },
  };
}

export type NotificationsRepo = ReturnType<typeof notificationsRepo>;

/** Queries on notifications_preference and notifications_delivery. */
export function channelsRepo(handle: Db | Tx) {
  const db = handle as unknown as Executor;
  return {
    findPreferences: (userId: string) => db.selectFrom('notifications_preference').selectAll().where('user_id', '=', userId).executeTakeFirst() as Promise<PreferenceRow | undefined>,

    /** The stored preferences of these users (those who never saved any have no row). */
    async preferencesOf(userIds: readonly string[]): Promise<PreferenceRow[]> {
      const rows: PreferenceRow[] = [];
      for (const part of inParts(userIds)) rows.push(...((await db.selectFrom('notifications_preference').selectAll().where('user_id', 'in', part).execute()) as PreferenceRow[]));
      return rows;
    },

    /** Writes the user's preferences when the stored version is `version` (0: none stored yet); false when it was not. */
    async savePreferences(row: PreferenceRow, version: number): Promise<boolean> {
      if (version === 0) {
        const inserted = await db.insertInto('notifications_preference').values(row).onConflict((oc) => oc.column('user_id').doNothing()).returning('user_id').executeTakeFirst();
        return inserted !== undefined;
      }
      const { user_id, ...changes } = row;
      const result = await db.updateTable('notifications_preference').set(changes).where('user_id', '=', user_id).where('version', '=', version).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Records deliveries to make; returns the ids of those inserted (not those whose event already has one on that channel for that user). */
    async insertDeliveries(rows: readonly DeliveryRow[]): Promise<Set<string>> {
      const inserted = new Set<string>();
      for (const part of inParts(rows)) {
        const returned = await db
          .insertInto('notifications_delivery')
          .values(part)
          .onConflict((oc) => oc.columns(['user_id', 'source_key', 'channel']).doNothing())
          .returning('id')
          .execute();
        for (const row of returned) inserted.add(row.id);
      }
      return inserted;
    },

    findDelivery: (id: string) => db.selectFrom('notifications_delivery').selectAll().where('id', '=', id).executeTakeFirst() as Promise<DeliveryRow | undefined>,

    /** Moves a queued delivery on; false when it was no longer queued (another worker finished it). */
    async settleDelivery(id: string, changes: Partial<Pick<DeliveryRow, 'status' | 'reason' | 'last_error' | 'updated_at' | 'not_before'>>, attempted: boolean): Promise<boolean> {
      const result = await db
        .updateTable('notifications_delivery')
        .set({ ...changes, ...(attempted ? { attempts: sql`attempts + 1` as unknown as number } : {}) })
        .where('id', '=', id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Records that the provider accepted this delivery for `target`; false when it already had (a retry). */
    async recordSend(deliveryId: string, target: string, providerRef: string | null, now: string): Promise<boolean> {
      const row = await db
        .insertInto('notifications_delivery_send')
        .values({ delivery_id: deliveryId, target, provider_ref: providerRef, created_at: now })
        .onConflict((oc) => oc.columns(['delivery_id', 'target']).doNothing())
        .returning('target')
        .executeTakeFirst();
      return row !== undefined;
    },
    /** The targets this delivery already reached. */
    async sentTargets(deliveryId: string): Promise<Set<string>> {
      return new Set((await db.selectFrom('notifications_delivery_send').select('target').where('delivery_id', '=', deliveryId).execute()).map((r) => r.target));
    },

    deliveriesOf: (userId: string) => db.selectFrom('notifications_delivery').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute() as Promise<DeliveryRow[]>,

    // ── push subscriptions ────────────────────────────────────────────────
    /** Stores the subscription; an endpoint already known moves to this user (the device changed hands). */
    async upsertSubscription(row: PushSubscriptionRow): Promise<PushSubscriptionRow> {
      return (await db
        .insertInto('notifications_push_subscription')
        .values(row)
        .onConflict((oc) =>
          oc.column('endpoint').doUpdateSet({
            user_id: (eb) => eb.ref('excluded.user_id'),
            p256dh: (eb) => eb.ref('excluded.p256dh'),
            auth: (eb) => eb.ref('excluded.auth'),
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow()) as PushSubscriptionRow;
    },
    subscriptionsOf: (userId: string) =>
      db.selectFrom('notifications_push_subscription').selectAll().where('user_id', '=', userId).orderBy('id').limit(50).execute() as Promise<PushSubscriptionRow[]>,
    /** Which of these users have at least one push subscription. */
    async usersWithSubscription(userIds: readonly string[]): Promise<Set<string>> {
      const users = new Set<string>();
      for (const part of inParts(userIds)) {
        for (const row of await db.selectFrom('notifications_push_subscription').select('user_id').distinct().where('user_id', 'in', part).execute()) users.add(row.user_id);
      }
      return users;
    },
    async deleteSubscription(userId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('notifications_push_subscription').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async deleteSubscriptions(ids: readonly string[]): Promise<void> {
      if (ids.length) await db.deleteFrom('notifications_push_subscription').where('id', 'in', [...ids]).execute();
    },
    async markPushed(ids: readonly string[], now: string): Promise<void> {
      if (ids.length) await db.updateTable('notifications_push_subscription').set({ last_success_at: now }).where('id', 'in', [...ids]).execute();
    },

    async deleteUser(userId: string): Promise<void> {
      await db.deleteFrom('notifications_push_subscription').where('user_id', '=', userId).execute();
      await db.deleteFrom('notifications_preference').where('user_id', '=', userId).execute();
      await db.deleteFrom('notifications_delivery_send').where('delivery_id', 'in', db.selectFrom('notifications_delivery').select('id').where('user_id', '=', userId)).execute();
      await db.deleteFrom('notifications_delivery').where('user_id', '=', userId).execute();
    },
  };
}

/** Queries on notifications_announcement. */
export function announcementsRepo(handle: Db | Tx) {
  const db = handle as unknown as Executor;
  return {
    insert: (row: AnnouncementRow) => db.insertInto('notifications_announcement').values(row).execute(),
    find: (id: string) => db.selectFrom('notifications_announcement').selectAll().where('id', '=', id).executeTakeFirst() as Promise<AnnouncementRow | undefined>,
  };
}

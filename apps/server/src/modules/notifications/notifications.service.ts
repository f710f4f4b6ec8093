import type { Clock } from '../../core/clock.js';
import type { Db, Tx } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog, StoredEvent } from '../../core/events/types.js';
import { AppError, CoreErrors } from '../../core/http/problem.js';
import { toPage, type CursorCodec, type Page } from '../../core/http/pagination.js';
import { newId } from '../../core/ids.js';
import { NotificationsErrors, notificationNotFound } from './notifications.errors.js';
import { NotificationsEvents, type NotificationCreatedPayload, type NotificationDeletedPayload, type NotificationReadPayload } from './notifications.events.js';
import { notificationsRepo } from './notifications.repo.js';
import type { Category, NotificationListQuery, NotificationView, ReadBody } from './notifications.schemas.js';
import { actorsOf, specsOf, type NotificationSpec } from './notifications.sources.js';
import type { NotificationRow } from './notifications.tables.js';

/** Display names of accounts (identity's users directory). */
export interface NameLookup {
  lookup(ids: readonly string[]): Promise<Map<string, { displayName: string }>>;
}

/**
 * What happens around storing an entry, plugged in by the channels (preferences, email, push):
 * whether the entry belongs in the inbox at all, and what to deliver once it is stored.
 */
export interface DeliveryHooks {
  /** Called inside the storing transaction; returns false to keep the entry out of the inbox. */
  wantsInApp(tx: Tx, spec: NotificationSpec): Promise<boolean>;
  /** Called inside the storing transaction, after the receipt was claimed (once per event and recipient). */
  afterStore(tx: Tx, spec: NotificationSpec, row: NotificationRow | null): Promise<void>;
}

export interface NotificationsServiceDeps {
  db: Db;
  clock: Clock;
  events: EventLog;
  cursors: CursorCodec;
  users: NameLookup;
}

export function toView(row: NotificationRow): NotificationView {
  const grouped = row.group_count > 1 && row.group_title;
  return {
    id: row.id,
    category: row.category as Category,
    type: row.type,
    title: grouped ? row.group_title!.replace('{count}', String(row.group_count)) : row.title,
    body: row.body,
    link: row.link,
    entity: { type: row.entity_type, id: row.entity_id },
    count: Number(row.group_count),
    actorId: row.actor_id,
    read: row.read_at !== null,
    readAt: row.read_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.version),
  };
}

/** The inbox: entries made from other modules' events, read, counted, marked read and deleted by their owner only. */
export function createNotificationsService(deps: NotificationsServiceDeps) {
  const { db, clock, events, cursors, users } = deps;
  const iso = () => clock.now().toISOString();
  let hooks: DeliveryHooks | undefined;

  async function store(tx: Tx, spec: NotificationSpec): Promise<NotificationRow | null> {
    const repo = notificationsRepo(tx);
    const now = iso();
    if (!(await repo.claimReceipt(spec.userId, spec.sourceKey, now))) return null;
    let row: NotificationRow | null = null;
    if (!hooks || (await hooks.wantsInApp(tx, spec))) {
      const id = newId('ntf');
      row = await repo.insertOrFold({
        id,
        user_id: spec.userId,
        category: spec.category,
        type: spec.type,
        title: spec.title,
        body: spec.body,
        link: spec.link,
        entity_type: spec.entity.type,
        entity_id: spec.entity.id,
        group_key: spec.groupKey ?? null,
        group_title: spec.groupTitle ?? null,
        group_count: 1,
        source_seq: spec.sourceSeq,
        actor_id: spec.actorId,
        read_at: null,
        created_at: now,
        updated_at: now,
        version: 1,
      });
      await events.append<NotificationCreatedPayload>(tx, {
        type: row.id === id ? NotificationsEvents.created : NotificationsEvents.updated,
        scopes: [`user:${spec.userId}`],
        payload: { notification: toView(row) },
        actorId: spec.actorId,
      });
    }
    await hooks?.afterStore(tx, spec, row);
    return row;
  }

  const service = {
    setHooks(next: DeliveryHooks) {
      hooks = next;
    },

    /** Stores what `event` means for each recipient; a redelivered event adds nothing. Returns the stored entries. */
    async ingest(event: StoredEvent): Promise<NotificationRow[]> {
      const actorIds = actorsOf(event);
      const names = actorIds.length ? await users.lookup(actorIds).catch(() => new Map<string, { displayName: string }>()) : new Map<string, { displayName: string }>();
      const specs = specsOf(event, (id) => names.get(id)?.displayName ?? 'Someone');
      return service.deliver(specs);
    },

    /** Stores ready-made entries (announcements, tests of the channels). */
    async deliver(specs: NotificationSpec[]): Promise<NotificationRow[]> {
      if (!specs.length) return [];
      return withTransaction(db, async (tx) => {
        const stored: NotificationRow[] = [];
        for (const spec of specs) {
          const row = await store(tx, spec);
          if (row) stored.push(row);
        }
        return stored;
      });
    },

    async list(userId: string, query: NotificationListQuery): Promise<Page<NotificationView>> {
      const limit = query.limit ?? 20;
      let after: [string, string] | undefined;
      if (query.cursor) {
        const [time, id, extra] = cursors.decode(query.cursor);
        if (typeof time !== 'string' || typeof id !== 'string' || extra !== undefined) throw new AppError(400, CoreErrors.PAGINATION_INVALID_CURSOR, 'The cursor is not one this server issued for this list.');
        after = [time, id];
      }
      const rows = await notificationsRepo(db).list(userId, { unread: query.unread, category: query.category, after, limit });
      return toPage(rows, limit, cursors, (r) => [r.updated_at, r.id], toView);
    },

    async get(userId: string, id: string): Promise<NotificationView> {
      const row = await notificationsRepo(db).find(userId, id);
      if (!row) throw notificationNotFound();
      return toView(row);
    },

    async unreadCount(userId: string): Promise<{ unread: number }> {
      return { unread: await notificationsRepo(db).unreadCount(userId) };
    },

    async markRead(userId: string, body: ReadBody): Promise<{ updated: number }> {
      if (!body.all && !body.ids?.length) throw new AppError(422, NotificationsErrors.NOTIFICATIONS_READ_TARGET_REQUIRED, 'Give `ids` or `all: true`.');
      return withTransaction(db, async (tx) => {
        const ids = await notificationsRepo(tx).markRead(userId, body.all ? undefined : body.ids, iso());
        if (ids.length) {
          await events.append<NotificationReadPayload>(tx, { type: NotificationsEvents.read, scopes: [`user:${userId}`], payload: body.all ? { userId, all: true } : { userId, ids }, actorId: userId });
        }
        return { updated: ids.length };
      });
    },

    /** Reading a conversation (or a post) elsewhere marks what the inbox holds about it read. */
    async markEntityRead(userId: string, entity: { type: string; id: string }, categories: readonly Category[]): Promise<number> {
      return withTransaction(db, async (tx) => {
        const ids = await notificationsRepo(tx).markEntityRead(userId, entity, categories, iso());
        if (ids.length) await events.append<NotificationReadPayload>(tx, { type: NotificationsEvents.read, scopes: [`user:${userId}`], payload: { userId, ids }, actorId: userId });
        return ids.length;
      });
    },

    async remove(userId: string, id: string): Promise<void> {
      await withTransaction(db, async (tx) => {
        if (!(await notificationsRepo(tx).delete(userId, id))) throw notificationNotFound();
        await events.append<NotificationDeletedPayload>(tx, { type: NotificationsEvents.deleted, scopes: [`user:${userId}`], payload: { userId, id }, actorId: userId });
      });
    },

    async forgetUser(userId: string): Promise<void> {
      await withTransaction(db, (tx) => notificationsRepo(tx).deleteUser(userId));
    },
  };
  return service;
}

export type NotificationsService = ReturnType<typeof createNotificationsService>;

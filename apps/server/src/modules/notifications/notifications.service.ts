import type { Clock } from '../../core/clock.js';
import type { Db, Tx } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog, StoredEvent } from '../../core/events/types.js';
import { AppError, CoreErrors } from '../../core/http/problem.js';
import { toPage, type CursorCodec, type Page } from '../../core/http/pagination.js';
import { newId } from '../../core/ids.js';
import { NotificationsErrors, notificationNotFound } from './notifications.errors.js';
import { NotificationsEvents, type NotificationCreatedPayload, type NotificationDeletedPayload, type NotificationReadPayload } from './notifications.events.js';
import { notificationsRepo, pairKey } from './notifications.repo.js';
import type { Category, NotificationListQuery, NotificationView, ReadBody } from './notifications.schemas.js';
import { actorsOf, specsOf, type NotificationSpec } from './notifications.sources.js';
import type { NotificationRow } from './notifications.tables.js';

/** Display names of accounts (identity's users directory). */
export interface NameLookup {
  lookup(ids: readonly string[]): Promise<Map<string, { displayName: string }>>;
}

/**
 * What happens around storing entries, plugged in by the channels (preferences, email, push, SMS):
 * whether an entry belongs in the inbox at all, and what to deliver once it is stored.
 */
export interface DeliveryHooks {
  /** Called inside the storing transaction with the recipients of a chunk: reads what the decisions need for all of them at once. */
  forRecipients(tx: Tx, userIds: readonly string[]): Promise<RecipientDecisions>;
}

export interface RecipientDecisions {
  /** False keeps the entry out of the inbox. */
  wantsInApp(spec: NotificationSpec): boolean;
  /** Called inside the storing transaction, after the receipts were claimed (once per event and recipient); `row` is null for an entry kept out of the inbox. */
  afterStore(tx: Tx, stored: ReadonlyArray<{ spec: NotificationSpec; row: NotificationRow | null }>): Promise<void>;
}

/**
 * Recipients stored per transaction. Each chunk is a handful of multi-row statements, so SQLite's
 * single writer is never held for long; receipts make a chunk retried after a crash add nothing.
 */
export const RECIPIENTS_PER_TRANSACTION = 500;

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

/** A new inbox row for `spec` (an upsert may fold it into an unread one of its group instead). */
function newRow(spec: NotificationSpec, now: string): NotificationRow {
  return {
    id: newId('ntf'),
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
  };
}

/** The inbox: entries made from other modules' events, read, counted, marked read and deleted by their owner only. */
export function createNotificationsService(deps: NotificationsServiceDeps) {
  const { db, clock, events, cursors, users } = deps;
  const iso = () => clock.now().toISOString();
  let hooks: DeliveryHooks | undefined;

  /** Stores one chunk of entries in the caller's transaction, in a few set-based statements. */
  async function storeChunk(tx: Tx, specs: readonly NotificationSpec[]): Promise<NotificationRow[]> {
    const repo = notificationsRepo(tx);
    const now = iso();
    const claimed = await repo.claimReceipts(specs, now);
    // Only the specs whose receipt this transaction claimed, each once (a spec given twice counts once).
    const fresh = specs.filter((spec) => claimed.delete(pairKey(spec.userId, spec.sourceKey)));
    if (!fresh.length) return [];
    const decisions = await hooks?.forRecipients(tx, [...new Set(fresh.map((spec) => spec.userId))]);
    const inApp = decisions ? fresh.filter((spec) => decisions.wantsInApp(spec)) : fresh;
    const given = inApp.map((spec) => newRow(spec, now));
    const rows = await repo.insertOrFoldMany(given);
    const rowOf = new Map(inApp.map((spec, i) => [spec, rows[i]!]));
    await decisions?.afterStore(tx, fresh.map((spec) => ({ spec, row: rowOf.get(spec) ?? null })));
    // Last: on PostgreSQL appending takes the log's lock until commit.
    await events.appendMany<NotificationCreatedPayload>(
      tx,
      rows.map((row, i) => ({
        type: row.id === given[i]!.id ? NotificationsEvents.created : NotificationsEvents.updated,
        scopes: [`user:${row.user_id}`],
        payload: { notification: toView(row) },
        actorId: inApp[i]!.actorId,
      })),
    );
    return rows;
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

    /** Stores ready-made entries (announcements, tests of the channels), one transaction per chunk of recipients. */
    async deliver(specs: NotificationSpec[]): Promise<NotificationRow[]> {
      const stored: NotificationRow[] = [];
      for (let i = 0; i < specs.length; i += RECIPIENTS_PER_TRANSACTION) {
        const chunk = specs.slice(i, i + RECIPIENTS_PER_TRANSACTION);
        stored.push(...(await withTransaction(db, (tx) => storeChunk(tx, chunk))));
      }
      return stored;
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

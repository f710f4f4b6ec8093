import type { Clock } from '../../core/clock.js';
import type { Db, Tx } from '../../core/db/database.js';
import { isDbError } from '../../core/db/errors.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import type { JobQueue } from '../../core/jobs/types.js';
import type { Principal } from '../../core/http/access.js';
import { versionMismatch } from '../../core/http/etag.js';
import { toPage, type CursorCodec, type Page } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import {
  ChatErrors,
  conversationNotFound,
  forbidden,
  memberNotFound,
  messageNotFound,
  notAGroup,
  rateLimited,
  usersNotFound,
} from './chat.errors.js';
import {
  ChatEvents,
  type ConversationCreatedPayload,
  type ConversationReadPayload,
  type ConversationUpdatedPayload,
  type MemberChangedPayload,
  type MentionCreatedPayload,
  type MessageCreatedPayload,
  type MessageNotifyPayload,
  type MessageDeletedPayload,
  type MessageReportedPayload,
  type MessageUpdatedPayload,
  type MuteUpdatedPayload,
  type ReactionPayload,
} from './chat.events.js';
import { searchWords, snippetOf } from './chat-search.js';
import { notifyScheduler, type NotifyJob } from './chat-notify.js';
import { groupCommit } from './group-commit.js';
import { chatRepo, messageInserts, type LastMessageRow, type MyConversationRow, type SendContextRow, type SendQuery } from './chat.repo.js';
import type {
  BlockView,
  ConversationView,
  CreateConversation,
  MarkRead,
  MemberView,
  MessageEditView,
  MessageQuery,
  MessageView,
  MuteInput,
  MuteStateView,
  ReadStateView,
  SearchHitView,
  SearchQuery,
  SendMessage,
} from './chat.schemas.js';
import { MUTE_DURATIONS } from './chat.schemas.js';
import { MUTED_FOREVER, type ConversationKind, type ConversationRow, type MemberRole, type MemberRow, type MessageRow, type ReactionRow } from './chat.tables.js';

/** Display names of accounts (identity's users directory). */
export interface UserLookup {
  lookup(ids: readonly string[]): Promise<Map<string, { id: string; displayName: string; active: boolean }>>;
}

/** How a course channel's members are decided (the learning module's enrollments). */
export interface CourseMembership {
  roleIn(courseId: string, userId: string): Promise<'staff' | 'student' | null>;
  memberIds(courseId: string): Promise<string[]>;
  title(courseId: string): Promise<string | null>;
}

export interface SendLimit {
  /** Messages one user may send… */
  max: number;
  /** …within this many milliseconds. */
  windowMs: number;
}

export const DEFAULT_SEND_LIMIT: SendLimit = { max: 30, windowMs: 10_000 };
const MAX_EDITS = 50;
const MAX_REACTIONS_PER_USER = 20;
export const PREVIEW_LENGTH = 140;

/** The first PREVIEW_LENGTH characters (code points); a body of up to 8,000 is not split whole on every send. */
function preview(body: string): string {
  if (body.length <= PREVIEW_LENGTH) return body;
  let out = '';
  let count = 0;
  for (const character of body) {
    if (count++ === PREVIEW_LENGTH) break;
    out += character;
  }
  return out;
}
const isAdmin = (principal: Principal) => principal.kind === 'user' && principal.roles.includes('admin');
const manages = (role: MemberRole) => role === 'owner' || role === 'admin';
const directKey = (a: string, b: string) => [a, b].sort().join('|');
/** A member's mute as the API shows it: an expired one is no mute, an indefinite one has no end. */
const muteOf = (mutedUntil: string | null, at: string) =>
  mutedUntil !== null && mutedUntil > at ? { muted: true, mutedUntil: mutedUntil === MUTED_FOREVER ? null : mutedUntil } : { muted: false, mutedUntil: null };
const invalidMute = (path: string, message: string) => new AppError(422, 'VALIDATION_FAILED', `Cannot mute: ${message}.`, { errors: [{ path, message }] });

/** A send's write: the message it stores (and whether it may call for a notification), or the earlier one with the same client message id. */
type SendOutcome = { message: MessageRow; notify: boolean } | { existingId: string };

/**
 * The messages that a send transaction's earlier sends applied and its flush has yet to store: what
 * each later check must count besides the stored ones. Kept by key, so that checking a batch of n
 * sends costs O(n), not O(n²) scans of the sends before each.
 */
class PendingSends {
  readonly #lastSeq = new Map<string, number>();
  readonly #sentAt = new Map<string, string[]>();
  readonly #byClientId = new Map<string, string>();

  add(message: MessageRow): void {
    // Seqs grow in batch order: the latest is the conversation's highest.
    this.#lastSeq.set(message.conversation_id, message.seq);
    const times = this.#sentAt.get(message.sender_id);
    if (times) times.push(message.created_at);
    else this.#sentAt.set(message.sender_id, [message.created_at]);
    if (message.client_message_id !== null) this.#byClientId.set(clientKey(message.conversation_id, message.sender_id, message.client_message_id), message.id);
  }

  lastSeq(conversationId: string): number | undefined {
    return this.#lastSeq.get(conversationId);
  }

  /** When the sender's pending messages sent after `since` were sent, newest first. */
  sentSince(senderId: string, since: string): string[] {
    return (this.#sentAt.get(senderId) ?? []).filter((at) => at > since).sort().reverse();
  }

  resendOf(conversationId: string, senderId: string, clientMessageId: string): string | undefined {
    return this.#byClientId.get(clientKey(conversationId, senderId, clientMessageId));
  }
}
// Conversation and user ids hold no spaces.
const clientKey = (conversationId: string, senderId: string, clientMessageId: string) => `${conversationId} ${senderId} ${clientMessageId}`;

/** One per send transaction: a batch that fails runs its sends again, each in a transaction (and a PendingSends) of its own. */
const pendingSends = new WeakMap<Tx, PendingSends>();
function pendingIn(tx: Tx): PendingSends {
  let pending = pendingSends.get(tx);
  if (!pending) pendingSends.set(tx, (pending = new PendingSends()));
  return pending;
}

/** The last of `rows` (in order) for each key. */
const lastBy = <T>(rows: readonly T[], key: (row: T) => string) => [...new Map(rows.map((row) => [key(row), row])).values()];

/**
 * Writes a send batch's messages (group-commit.ts), in a few statements whatever their number: each
 * conversation's new last seq, the messages, their search index (findable once acknowledged), the
 * senders' watermarks (what one sends, one has read), and the jobs that will ask for their
 * notifications. Seqs grow in batch order, so a conversation's (and a sender's) last message in the
 * batch holds its highest.
 */
function sentStore(db: Db, scheduleNotify?: ReturnType<typeof notifyScheduler>) {
  const insertMessages = messageInserts(db);
  return async function storeSent(tx: Tx, outcomes: SendOutcome[]): Promise<void> {
    const stored = outcomes.filter((o) => 'message' in o);
    const messages = stored.map((o) => o.message);
    if (!messages.length) return;
    const repo = chatRepo(tx);
    await repo.setLastSeqs(lastBy(messages, (m) => m.conversation_id).map((m) => ({ id: m.conversation_id, seq: m.seq, at: m.created_at })));
    await insertMessages(tx, messages);
    await repo.indexForSearch(messages.map((m) => m.id));
    await repo.advanceManyWatermarks(lastBy(messages, (m) => `${m.conversation_id} ${m.sender_id}`).map((m) => ({ conversationId: m.conversation_id, userId: m.sender_id, seq: m.seq })));
    await scheduleNotify?.(tx, stored.flatMap(({ message: m, notify }) => (notify ? [{ conversationId: m.conversation_id, messageId: m.id, at: new Date(m.created_at) }] : [])));
  };
}

export function createChatService(deps: {
  db: Db;
  clock: Clock;
  events: EventLog;
  cursors: CursorCodec;
  users: UserLookup;
  /** Schedules the notifications of new messages (none without it). */
  jobs?: JobQueue;
  /** How long the messages of a conversation are gathered before their notification (0: one per message). */
  notifyDelayMs?: number;
  courses?: CourseMembership;
  sendLimit?: SendLimit;
  /** How sends are batched (group-commit.ts): how many batches may run at once, and how many sends one may carry. */
  sendBatches?: { concurrency: number; maxBatch: number };
}) {
  const { db, clock, events, cursors, users, courses } = deps;
  const sendLimit = deps.sendLimit ?? DEFAULT_SEND_LIMIT;
  const scheduleNotify = deps.jobs ? notifyScheduler(deps.jobs, deps.notifyDelayMs ?? 0) : undefined;
  // The batch's one context read counts none of its own sends against the limit: right for every
  // send but a sender's second (or later) in one batch, which reads its own context in `check`.
  const readSendContexts = (tx: Tx, queries: SendQuery[]) => chatRepo(tx).sendContexts(queries, sendLimit.max - 1);
  const commitSend = groupCommit<SendOutcome, SendQuery, SendContextRow | undefined>(db, events, { ...deps.sendBatches, read: readSendContexts, flush: sentStore(db, scheduleNotify) });
  const now = () => clock.now().toISOString();

  const messageView = (row: MessageRow, reactions: ReactionRow[], viewerId: string): MessageView => {
    const counts = new Map<string, { count: number; mine: boolean }>();
    for (const r of reactions) {
      const entry = counts.get(r.emoji) ?? { count: 0, mine: false };
      entry.count++;
      if (r.user_id === viewerId) entry.mine = true;
      counts.set(r.emoji, entry);
    }
    return {
      id: row.id,
      conversationId: row.conversation_id,
      seq: Number(row.seq),
      senderId: row.sender_id,
      clientMessageId: row.client_message_id,
      body: row.deleted_at ? null : row.body,
      replyToId: row.reply_to_id,
      mentions: row.deleted_at ? [] : (JSON.parse(row.mentions) as string[]),
      attachments: row.deleted_at ? [] : (JSON.parse(row.attachments) as string[]),
      reactions: row.deleted_at ? [] : [...counts].map(([emoji, c]) => ({ emoji, count: c.count, mine: c.mine })),
      editCount: Number(row.edit_count),
      editedAt: row.edited_at,
      deletedAt: row.deleted_at,
      version: Number(row.version),
      createdAt: row.created_at,
    };
  };

  async function messageViews(rows: MessageRow[], viewerId: string): Promise<MessageView[]> {
    const reactions = await chatRepo(db).reactionsOf(rows.map((r) => r.id));
    const byMessage = new Map<string, ReactionRow[]>();
    for (const r of reactions) byMessage.set(r.message_id, [...(byMessage.get(r.message_id) ?? []), r]);
    return rows.map((row) => messageView(row, byMessage.get(row.id) ?? [], viewerId));
  }

  async function conversationViews(rows: MyConversationRow[], viewerId: string): Promise<ConversationView[]> {
    const last = await chatRepo(db).lastMessages(rows.map((r) => ({ id: r.id, last_seq: Number(r.last_seq) })));
    const peers = rows.filter((r) => r.kind === 'direct' && r.direct_key).map((r) => peerOf(r, viewerId));
    const names = peers.length ? await users.lookup(peers) : new Map();
    const at = now();
    return rows.map((row) => {
      const lastSeq = Number(row.last_seq);
      const readSeq = Number(row.read_seq);
      const message: LastMessageRow | undefined = last.get(row.id);
      const peerId = row.kind === 'direct' ? peerOf(row, viewerId) : null;
      return {
        id: row.id,
        kind: row.kind,
        title: row.title,
        courseId: row.course_id,
        peer: peerId ? { userId: peerId, displayName: names.get(peerId)?.displayName ?? null } : null,
        createdBy: row.created_by,
        memberCount: Number(row.member_count),
        lastSeq,
        lastMessage: message
          ? { id: message.id, seq: Number(message.seq), senderId: message.sender_id, preview: message.deleted_at || message.body === null ? null : preview(message.body), createdAt: message.created_at, deleted: Boolean(message.deleted_at) }
          : null,
        me: { role: row.role, readSeq, deliveredSeq: Number(row.delivered_seq), unreadCount: Math.max(0, lastSeq - readSeq), joinedAt: row.joined_at, ...muteOf(row.muted_until, at) },
        activityAt: row.activity_at,
        version: Number(row.version),
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      };
    });
  }

  const peerOf = (row: Pick<ConversationRow, 'direct_key'>, viewerId: string) => {
    const [a, b] = (row.direct_key ?? '').split('|');
    return a === viewerId ? b! : a!;
  };

  /** The conversation and the caller's membership, or 404 (also when the caller is not a member). */
  async function requireMember(handle: Db | Tx, conversationId: string, userId: string): Promise<{ conversation: ConversationRow; member: MemberRow }> {
    const repo = chatRepo(handle);
    const member = await repo.findMember(conversationId, userId);
    if (!member) throw conversationNotFound();
    const conversation = await repo.findConversation(conversationId);
    if (!conversation) throw conversationNotFound();
    return { conversation, member };
  }

  async function view(conversationId: string, userId: string): Promise<ConversationView> {
    const { conversation, member } = await requireMember(db, conversationId, userId);
    return (await conversationViews([{ ...conversation, role: member.role, read_seq: member.read_seq, delivered_seq: member.delivered_seq, joined_at: member.joined_at, muted_until: member.muted_until }], userId))[0]!;
  }

  async function requireUsers(ids: string[], path: string) {
    if (!ids.length) return;
    const found = await users.lookup(ids);
    const missing = ids.filter((id) => !found.get(id)?.active);
    if (missing.length) throw usersNotFound(path, missing);
  }

  const memberRow = (conversationId: string, userId: string, role: MemberRole, at: string, seq = 0): MemberRow => ({
    conversation_id: conversationId,
    user_id: userId,
    role,
    read_seq: seq,
    delivered_seq: seq,
    joined_at: at,
    muted_until: null,
  });

  const courseNotFound = () => new AppError(404, ChatErrors.CHAT_COURSE_NOT_FOUND, 'No such course, or you are neither its staff nor enrolled.');

  /**
   * Makes a course channel's members equal the course's (staff and active students): adds and
   * removes members, with their events. Creates the channel when `create` is set. Idempotent: jobs
   * may run it twice. New members start with everything already sent marked read.
   */
  async function syncCourse(courseId: string, options: { create: boolean; actorId?: string }): Promise<{ id: string; created: boolean } | null> {
    if (!courses) return null;
    const title = await courses.title(courseId);
    const existing = await chatRepo(db).findCourseChannel(courseId);
    if (!title) return existing ? { id: existing.id, created: false } : null;
    if (!existing && !options.create) return null;
    const wanted = new Set(await courses.memberIds(courseId));
    const at = now();
    const run = () =>
      withTransaction(db, async (tx) => {
        const repo = chatRepo(tx);
        let channel = await repo.findCourseChannel(courseId);
        let created = false;
        if (!channel) {
          channel = { id: newId('cnv'), kind: 'course', title, direct_key: null, course_id: courseId, created_by: options.actorId ?? 'system', last_seq: 0, member_count: 0, activity_at: at, version: 1, created_at: at, updated_at: at };
          await repo.insertConversation(channel);
          created = true;
        }
        const id = channel.id;
        const current = new Set(await repo.memberIds(id));
        const added = [...wanted].filter((u) => !current.has(u)).sort();
        const removed = [...current].filter((u) => !wanted.has(u)).sort();
        for (const userId of added) await repo.insertMember(memberRow(id, userId, 'member', at, Number(channel.last_seq)));
        for (const userId of removed) await repo.deleteMember(id, userId);
        if (created) {
          await events.append<ConversationCreatedPayload>(tx, {
            type: ChatEvents.conversationCreated,
            scopes: [`conversation:${id}`, `course:${courseId}`],
            payload: { conversationId: id, kind: 'course', memberIds: [] },
            actorId: options.actorId ?? null,
          });
        }
        for (const userId of added) {
          await events.append<MemberChangedPayload>(tx, {
            type: ChatEvents.memberAdded,
            scopes: [`conversation:${id}`, `user:${userId}`],
            payload: { conversationId: id, userId, role: 'member', actorId: options.actorId ?? 'system' },
            actorId: options.actorId ?? null,
          });
        }
        for (const userId of removed) {
          await events.append<MemberChangedPayload>(tx, {
            type: ChatEvents.memberRemoved,
            scopes: [`conversation:${id}`, `user:${userId}`],
            payload: { conversationId: id, userId, role: null, actorId: options.actorId ?? 'system' },
            actorId: options.actorId ?? null,
          });
        }
        if (added.length || removed.length) await repo.setMemberCount(id, current.size + added.length - removed.length);
        return { id, created };
      });
    try {
      return await run();
    } catch (err) {
      // Two callers opened the channel at once: the other one created it; bring its members up to date.
      if (!isDbError(err, 'unique')) throw err;
      return { ...(await run()), created: false };
    }
  }

  /** When a mute asked for ends: a preset duration from now, a time in the future, or never. */
  function muteEnd(input: MuteInput): string {
    const at = clock.now().getTime();
    if (input.duration !== undefined && input.until != null) throw invalidMute('/body/until', 'give either until or duration');
    if (input.duration !== undefined) return new Date(at + MUTE_DURATIONS[input.duration]).toISOString();
    if (input.until == null) return MUTED_FOREVER;
    const until = Date.parse(input.until);
    // A leap second (`…T23:59:60Z`) passes the date-time format but is no instant JavaScript knows.
    if (Number.isNaN(until)) throw invalidMute('/body/until', 'until is not a time this server can use');
    if (until <= at) throw invalidMute('/body/until', 'until must be in the future');
    return until >= Date.parse(MUTED_FOREVER) ? MUTED_FOREVER : new Date(until).toISOString();
  }

  async function setMute(principal: Principal, id: string, mutedUntil: string | null): Promise<MuteStateView> {
    const me = principal.userId;
    const state = { conversationId: id, ...muteOf(mutedUntil, now()) };
    await withTransaction(db, async (tx) => {
      await requireMember(tx, id, me);
      await chatRepo(tx).setMute(id, me, mutedUntil);
      await events.append<MuteUpdatedPayload>(tx, { type: ChatEvents.muteUpdated, scopes: [`user:${me}`], payload: { ...state, userId: me }, actorId: me });
    });
    return state;
  }

  const blocked = () => new AppError(403, ChatErrors.CHAT_BLOCKED, 'This person does not accept direct messages from you.');
  /** Either of two people blocked the other: no direct conversation between them. */
  const blockedBetween = async (handle: Db | Tx, a: string, b: string) => Boolean((await chatRepo(handle).findBlock(a, b)) ?? (await chatRepo(handle).findBlock(b, a)));

  const service = {
    /** A direct conversation (one per pair: asking again returns it, `created: false`) or a group owned by the caller. */
    async createConversation(principal: Principal, input: CreateConversation): Promise<{ conversation: ConversationView; created: boolean }> {
      const me = principal.userId;
      const at = now();
      if (input.kind === 'direct') {
        if (input.userId === me) throw new AppError(422, ChatErrors.CHAT_DIRECT_WITH_SELF, 'A direct conversation needs another person.', { errors: [{ path: '/body/userId', message: 'is the caller' }] });
        const key = directKey(me, input.userId);
        if (await blockedBetween(db, me, input.userId)) throw blocked();
        const existing = await chatRepo(db).findDirect(key);
        if (existing && (await chatRepo(db).findMember(existing.id, me))) return { conversation: await view(existing.id, me), created: false };
        await requireUsers([input.userId], '/body/userId');
        const id = newId('cnv');
        try {
          await withTransaction(db, async (tx) => {
            const repo = chatRepo(tx);
            await repo.insertConversation({ id, kind: 'direct', title: null, direct_key: key, course_id: null, created_by: me, last_seq: 0, member_count: 2, activity_at: at, version: 1, created_at: at, updated_at: at });
            await repo.insertMember(memberRow(id, me, 'member', at));
            await repo.insertMember(memberRow(id, input.userId, 'member', at));
            await events.append<ConversationCreatedPayload>(tx, {
              type: ChatEvents.conversationCreated,
              scopes: [`conversation:${id}`, `user:${me}`, `user:${input.userId}`],
              payload: { conversationId: id, kind: 'direct', memberIds: [me, input.userId] },
              actorId: me,
            });
          });
        } catch (err) {
          // Both people opened the conversation at the same moment: the first one wins.
          if (!isDbError(err, 'unique')) throw err;
          const winner = await chatRepo(db).findDirect(key);
          if (!winner) throw err;
          return { conversation: await view(winner.id, me), created: false };
        }
        return { conversation: await view(id, me), created: true };
      }
      if (input.kind === 'course') {
        if (!courses || !(await courses.roleIn(input.courseId, me))) throw courseNotFound();
        const channel = await syncCourse(input.courseId, { create: true, actorId: me });
        if (!channel) throw courseNotFound();
        return { conversation: await view(channel.id, me), created: channel.created };
      }
      const others = (input.memberIds ?? []).filter((u) => u !== me);
      await requireUsers(others, '/body/memberIds');
      const id = newId('cnv');
      await withTransaction(db, async (tx) => {
        const repo = chatRepo(tx);
        await repo.insertConversation({ id, kind: 'group', title: input.title.trim(), direct_key: null, course_id: null, created_by: me, last_seq: 0, member_count: others.length + 1, activity_at: at, version: 1, created_at: at, updated_at: at });
        await repo.insertMember(memberRow(id, me, 'owner', at));
        for (const userId of others) await repo.insertMember(memberRow(id, userId, 'member', at));
        await events.append<ConversationCreatedPayload>(tx, {
          type: ChatEvents.conversationCreated,
          scopes: [`conversation:${id}`, ...[me, ...others].map((u) => `user:${u}`)],
          payload: { conversationId: id, kind: 'group', memberIds: [me, ...others] },
          actorId: me,
        });
      });
      return { conversation: await view(id, me), created: true };
    },

    async list(principal: Principal, page: { limit?: number; cursor?: string }): Promise<Page<ConversationView>> {
      const limit = page.limit ?? 20;
      let after: [string, string] | undefined;
      if (page.cursor) {
        const [at, id] = cursors.decode(page.cursor);
        if (typeof at !== 'string' || typeof id !== 'string') throw new AppError(400, 'PAGINATION_INVALID_CURSOR', 'The cursor is not one this server issued for this list.');
        after = [at, id];
      }
      const rows = await chatRepo(db).listMine(principal.userId, limit + 1, after);
      const pageOf = toPage(rows, limit, cursors, (r) => [r.activity_at, r.id]);
      return { items: await conversationViews(pageOf.items, principal.userId), nextCursor: pageOf.nextCursor };
    },

    get: (principal: Principal, id: string) => view(id, principal.userId),

    async update(principal: Principal, id: string, input: { title?: string; version?: number }, ifMatch?: number): Promise<ConversationView> {
      const expected = ifMatch ?? input.version;
      await withTransaction(db, async (tx) => {
        const { conversation, member } = await requireMember(tx, id, principal.userId);
        if (conversation.kind !== 'group') throw notAGroup();
        if (!manages(member.role)) throw forbidden('Only the owner and admins of a group can change it.');
        if (expected !== undefined && expected !== Number(conversation.version)) throw versionMismatch(Number(conversation.version));
        if (input.title === undefined) return;
        const title = input.title.trim();
        const at = now();
        if (!(await chatRepo(tx).updateConversation(id, Number(conversation.version), { title, updated_at: at }))) throw versionMismatch(Number(conversation.version) + 1);
        await events.append<ConversationUpdatedPayload>(tx, {
          type: ChatEvents.conversationUpdated,
          scopes: [`conversation:${id}`],
          payload: { conversationId: id, version: Number(conversation.version) + 1, title },
          actorId: principal.userId,
        });
      });
      return view(id, principal.userId);
    },

    /** Leaves a group; an owner who leaves hands the group to the oldest admin, else the oldest member. */
    leave: (principal: Principal, id: string) => service.removeMember(principal, id, principal.userId),

    async listMembers(principal: Principal, id: string, page: { limit?: number; cursor?: string }): Promise<Page<MemberView>> {
      await requireMember(db, id, principal.userId);
      const limit = page.limit ?? 50;
      const after = page.cursor ? String(cursors.decode(page.cursor)[0]) : undefined;
      const rows = await chatRepo(db).listMembers(id, limit + 1, after);
      const names = await users.lookup(rows.map((r) => r.user_id));
      return toPage(rows, limit, cursors, (r) => [r.user_id], (r) => memberView(r, names.get(r.user_id)?.displayName ?? null));
    },

    async addMember(principal: Principal, id: string, input: { userId: string; role?: 'admin' | 'member' }): Promise<MemberView> {
      const role = input.role ?? 'member';
      const { conversation, member } = await requireMember(db, id, principal.userId);
      if (conversation.kind !== 'group') throw notAGroup();
      if (!manages(member.role)) throw forbidden('Only the owner and admins of a group can add members.');
      if (role === 'admin' && member.role !== 'owner') throw forbidden('Only the owner can appoint admins.');
      await requireUsers([input.userId], '/body/userId');
      const at = now();
      try {
        await withTransaction(db, async (tx) => {
          const repo = chatRepo(tx);
          const { member: current } = await requireMember(tx, id, principal.userId);
          if (!manages(current.role)) throw forbidden('Only the owner and admins of a group can add members.');
          if (await repo.findMember(id, input.userId)) throw alreadyMember();
          await repo.insertMember(memberRow(id, input.userId, role, at));
          await repo.changeMemberCount(id, 1);
          await events.append<MemberChangedPayload>(tx, {
            type: ChatEvents.memberAdded,
            scopes: [`conversation:${id}`, `user:${input.userId}`],
            payload: { conversationId: id, userId: input.userId, role, actorId: principal.userId },
            actorId: principal.userId,
          });
        });
      } catch (err) {
        if (isDbError(err, 'unique')) throw alreadyMember();
        throw err;
      }
      const names = await users.lookup([input.userId]);
      return memberView(memberRow(id, input.userId, role, at), names.get(input.userId)?.displayName ?? null);
    },

    async updateMember(principal: Principal, id: string, userId: string, input: { role: 'admin' | 'member' }): Promise<MemberView> {
      const updated = await withTransaction(db, async (tx) => {
        const repo = chatRepo(tx);
        const { conversation, member } = await requireMember(tx, id, principal.userId);
        if (conversation.kind !== 'group') throw notAGroup();
        const target = await repo.findMember(id, userId);
        if (!target) throw memberNotFound();
        if (member.role !== 'owner') throw forbidden('Only the owner can change roles.');
        if (target.role === 'owner') throw new AppError(409, ChatErrors.CHAT_OWNER_CANNOT_BE_CHANGED, 'The owner keeps the owner role until they leave.');
        if (target.role !== input.role) {
          await repo.setRole(id, userId, input.role);
          await events.append<MemberChangedPayload>(tx, {
            type: ChatEvents.memberUpdated,
            scopes: [`conversation:${id}`, `user:${userId}`],
            payload: { conversationId: id, userId, role: input.role, actorId: principal.userId },
            actorId: principal.userId,
          });
        }
        return { ...target, role: input.role };
      });
      const names = await users.lookup([userId]);
      return memberView(updated, names.get(userId)?.displayName ?? null);
    },

    /**
     * Removes a member: oneself (leaving), or another by the owner (anyone) or an admin (plain
     * members). Direct conversations and course channels cannot be left this way.
     */
    async removeMember(principal: Principal, id: string, userId: string): Promise<void> {
      await withTransaction(db, async (tx) => {
        const repo = chatRepo(tx);
        const { conversation, member } = await requireMember(tx, id, principal.userId);
        if (conversation.kind !== 'group') throw notAGroup();
        const target = userId === principal.userId ? member : await repo.findMember(id, userId);
        if (!target) throw memberNotFound();
        if (target.user_id !== principal.userId) {
          const may = member.role === 'owner' || (member.role === 'admin' && target.role === 'member');
          if (!may) throw forbidden('Only the owner, or an admin for plain members, can remove someone.');
        }
        await repo.deleteMember(id, userId);
        await repo.changeMemberCount(id, -1);
        await events.append<MemberChangedPayload>(tx, {
          type: ChatEvents.memberRemoved,
          scopes: [`conversation:${id}`, `user:${userId}`],
          payload: { conversationId: id, userId, role: null, actorId: principal.userId },
          actorId: principal.userId,
        });
        if (target.role === 'owner') {
          const heir = await repo.successor(id);
          if (heir) {
            await repo.setRole(id, heir.user_id, 'owner');
            await events.append<MemberChangedPayload>(tx, {
              type: ChatEvents.memberUpdated,
              scopes: [`conversation:${id}`, `user:${heir.user_id}`],
              payload: { conversationId: id, userId: heir.user_id, role: 'owner', actorId: principal.userId },
              actorId: principal.userId,
            });
          }
        }
      });
    },

    /**
     * Stores a message once: a resend with the same `clientMessageId` returns the first one
     * (`created: false`). Seqs are 1, 2, 3… without gaps: each is read under the conversation's row
     * lock (PostgreSQL; SQLite has one writer). One read, shared by the sends of a batch, checks
     * membership, the resend, the send limit and blocks and gives the seq; then the event (a group's
     * members are not listed: the room reaches them, and notifications are decided later, by
     * `notifyUnread`). Concurrent sends share a
     * transaction (group commit), whose flush (storeSent) writes their messages, seqs and watermarks
     * together; each returns once its transaction has committed.
     */
    async send(principal: Principal, id: string, input: SendMessage): Promise<{ message: MessageView; created: boolean }> {
      const me = principal.userId;
      const at = clock.now();
      const createdAt = at.toISOString();
      const messageId = newId('msg');
      const resent = async (existingId: string) => ({ message: await service.getMessage(principal, id, existingId), created: false });
      const since = new Date(at.getTime() - sendLimit.windowMs).toISOString();
      const query: SendQuery = { conversation_id: id, sender_id: me, client_message_id: input.clientMessageId ?? null, since };
      let outcome: SendOutcome;
      try {
        outcome = await commitSend({
          // The seq's row: the first lock a send takes.
          lockOrder: id,
          query,
          // Reads only (the batch's read locked the seq's row on PostgreSQL): a refusal here leaves the other sends of its batch alone.
          async check(tx, batchContext): Promise<{ existingId: string } | (Pick<ConversationRow, 'kind' | 'direct_key'> & { seq: number })> {
            // Messages of this batch are stored by its flush, after every check: they are counted from what its sends applied.
            const pending = pendingIn(tx);
            const minePending = pending.sentSince(me, since);
            // The send limit is reached if the sender already has `max` messages in the window.
            const offset = sendLimit.max - 1 - minePending.length;
            // The batch's read assumed no earlier sends of this sender in the batch.
            const context = minePending.length ? (await chatRepo(tx).sendContexts([query], Math.max(0, offset)))[0] : batchContext;
            if (!context) throw conversationNotFound();
            if (context.existing_id) return { existingId: context.existing_id };
            const pendingResend = input.clientMessageId && pending.resendOf(id, me, input.clientMessageId);
            if (pendingResend) return { existingId: pendingResend };
            const limitReachedBy = offset < 0 ? minePending[sendLimit.max - 1] : context.limit_reached_by;
            if (limitReachedBy) throw rateLimited(Math.max(1, Math.ceil((Date.parse(limitReachedBy) + sendLimit.windowMs - at.getTime()) / 1000)));
            if (context.blocked) throw blocked();
            if (input.replyToId && !(await chatRepo(tx).findMessage(id, input.replyToId))) {
              throw new AppError(422, ChatErrors.CHAT_REPLY_NOT_FOUND, 'The message replied to is not in this conversation.', { errors: [{ path: '/body/replyToId', message: 'no such message here' }] });
            }
            // The next seq: after the conversation's stored last one, or its last one in this batch.
            const seq = (pending.lastSeq(id) ?? Number(context.last_seq)) + 1;
            return { kind: context.kind, direct_key: context.direct_key, seq };
          },
          async apply(tx, checked, append) {
            if ('existingId' in checked) return checked;
            const { seq } = checked;
            const others = (input.mentions ?? []).filter((u) => u !== me);
            // Most messages mention nobody: no promise to wait for then.
            const mentioned = others.length ? (await chatRepo(tx).membersAmong(id, others)).sort() : [];
            const message: MessageRow = {
              id: messageId,
              conversation_id: id,
              seq,
              sender_id: me,
              client_message_id: input.clientMessageId ?? null,
              body: input.body,
              reply_to_id: input.replyToId ?? null,
              mentions: JSON.stringify(mentioned),
              attachments: JSON.stringify(input.attachments ?? []),
              edit_count: 0,
              edited_at: null,
              deleted_at: null,
              deleted_by: null,
              version: 1,
              created_at: createdAt,
            };
            const kind: ConversationKind = checked.kind;
            // The message's event, then one per member mentioned: appended with the batch's others.
            append([
              {
                type: ChatEvents.messageCreated,
                scopes: [`conversation:${id}`],
                payload: {
                  conversationId: id,
                  conversationKind: kind,
                  messageId,
                  seq,
                  senderId: me,
                  preview: preview(input.body),
                  ...(kind === 'direct' ? { recipientIds: [peerOf(checked, me)] } : {}),
                  clientMessageId: message.client_message_id,
                  replyToId: message.reply_to_id,
                  mentions: mentioned,
                  attachments: input.attachments ?? [],
                  body: input.body,
                  createdAt,
                } satisfies MessageCreatedPayload,
                actorId: me,
              },
              ...mentioned.map((userId) => ({
                type: ChatEvents.mentionCreated,
                scopes: [`user:${userId}`],
                payload: { conversationId: id, messageId, senderId: me, userId } satisfies MentionCreatedPayload,
                actorId: me,
              })),
            ]);
            pendingIn(tx).add(message);
            // Course channels notify nobody of plain messages; the batch's flush schedules the others' notifications.
            return { message, notify: kind !== 'course' };
          },
        });
      } catch (err) {
        // The same clientMessageId sent twice at once: the other request stored it.
        if (!input.clientMessageId || !isDbError(err, 'unique')) throw err;
        const existing = await chatRepo(db).findByClientId(id, me, input.clientMessageId);
        if (!existing) throw err;
        return resent(existing.id);
      }
      if ('existingId' in outcome) return resent(outcome.existingId);
      return { message: messageView(outcome.message, [], me), created: true };
    },

    /**
     * Asks for notifications (`chat.message.notify`) of `messageId`, or of the newest message: for
     * the members who have not read it by now and have not muted the conversation. Mentions are
     * notified apart, at once. Run by the notify job, after the messages' window has passed.
     */
    async notifyUnread({ conversationId, messageId }: NotifyJob): Promise<void> {
      const at = now();
      await withTransaction(db, async (tx) => {
        const repo = chatRepo(tx);
        const message = messageId ? await repo.findMessage(conversationId, messageId) : await repo.latestLiveMessage(conversationId);
        if (!message || message.deleted_at) return;
        const notifyIds = await repo.unreadUnmutedIds(conversationId, Number(message.seq), message.sender_id, at);
        if (!notifyIds.length) return;
        await events.append<MessageNotifyPayload>(tx, {
          type: ChatEvents.messageNotify,
          scopes: ['internal'],
          payload: { conversationId, messageId: message.id, senderId: message.sender_id, preview: preview(message.body ?? ''), notifyIds },
          actorId: message.sender_id,
        });
      });
    },

    /** History by seq: newest first (optionally `before` a seq), or oldest first `after` a seq. */
    async listMessages(principal: Principal, id: string, query: MessageQuery): Promise<Page<MessageView>> {
      await requireMember(db, id, principal.userId);
      const limit = query.limit ?? 50;
      let direction: 'asc' | 'desc' = query.after !== undefined ? 'asc' : 'desc';
      let from = query.after ?? query.before;
      if (query.cursor) {
        const [dir, seq] = cursors.decode(query.cursor);
        if ((dir !== 'asc' && dir !== 'desc') || typeof seq !== 'number') throw new AppError(400, 'PAGINATION_INVALID_CURSOR', 'The cursor is not one this server issued for this list.');
        direction = dir;
        from = seq;
      }
      const rows = await chatRepo(db).listMessages(id, { direction, from, limit: limit + 1 });
      const pageOf = toPage(rows, limit, cursors, (r) => [direction, Number(r.seq)]);
      return { items: await messageViews(pageOf.items, principal.userId), nextCursor: pageOf.nextCursor };
    },

    async getMessage(principal: Principal, id: string, messageId: string): Promise<MessageView> {
      await requireMember(db, id, principal.userId);
      const row = await chatRepo(db).findMessage(id, messageId);
      if (!row) throw messageNotFound();
      return (await messageViews([row], principal.userId))[0]!;
    },

    /** The sender changes the text; the earlier text is kept in the edit history. */
    async edit(principal: Principal, id: string, messageId: string, input: { body: string; version?: number }, ifMatch?: number): Promise<MessageView> {
      const expected = ifMatch ?? input.version;
      await withTransaction(db, async (tx) => {
        const repo = chatRepo(tx);
        await requireMember(tx, id, principal.userId);
        const row = await repo.findMessage(id, messageId);
        if (!row) throw messageNotFound();
        if (row.sender_id !== principal.userId) throw forbidden('Only the sender can edit a message.');
        if (row.deleted_at) throw new AppError(409, ChatErrors.CHAT_MESSAGE_DELETED, 'This message was deleted.');
        const version = Number(row.version);
        if (expected !== undefined && expected !== version) throw versionMismatch(version);
        if (Number(row.edit_count) >= MAX_EDITS) throw new AppError(409, ChatErrors.CHAT_TOO_MANY_EDITS, `A message can be edited at most ${MAX_EDITS} times.`);
        const at = now();
        await repo.insertEdit({ id: newId('mse'), message_id: messageId, body: row.body ?? '', created_at: row.edited_at ?? row.created_at, replaced_at: at });
        if (!(await repo.updateMessage(messageId, version, { body: input.body, edited_at: at, edit_count: Number(row.edit_count) + 1 }))) throw versionMismatch(version + 1);
        await events.append<MessageUpdatedPayload>(tx, {
          type: ChatEvents.messageUpdated,
          scopes: [`conversation:${id}`],
          payload: { conversationId: id, messageId, seq: Number(row.seq), body: input.body, version: version + 1, editedAt: at },
          actorId: principal.userId,
        });
      });
      return service.getMessage(principal, id, messageId);
    },

    async listEdits(principal: Principal, id: string, messageId: string, page: { limit?: number; cursor?: string }): Promise<Page<MessageEditView>> {
      const message = await service.getMessage(principal, id, messageId);
      if (message.deletedAt) return { items: [], nextCursor: null };
      const limit = page.limit ?? 20;
      const after = page.cursor ? String(cursors.decode(page.cursor)[0]) : undefined;
      const rows = await chatRepo(db).listEdits(messageId, limit + 1, after);
      return toPage(rows, limit, cursors, (r) => [r.id], (r) => ({ body: r.body, writtenAt: r.created_at, replacedAt: r.replaced_at }));
    },

    /**
     * Deletes a message, leaving a tombstone that keeps its seq: by the sender, a group's owner or
     * admins, course staff (course channels), or a site administrator (moderation).
     */
    async deleteMessage(principal: Principal, id: string, messageId: string): Promise<void> {
      const admin = isAdmin(principal);
      const conversation = await chatRepo(db).findConversation(id);
      const staff = conversation?.kind === 'course' && conversation.course_id && courses ? (await courses.roleIn(conversation.course_id, principal.userId)) === 'staff' : false;
      await withTransaction(db, async (tx) => {
        const repo = chatRepo(tx);
        const member = await repo.findMember(id, principal.userId);
        if (!member && !admin) throw conversationNotFound();
        const row = await repo.findMessage(id, messageId);
        if (!row) throw messageNotFound();
        if (row.deleted_at) return;
        const may = row.sender_id === principal.userId || admin || staff || (member && conversation?.kind === 'group' && manages(member.role));
        if (!may) throw forbidden('Only the sender, the group’s owner and admins, course staff or an administrator can delete this message.');
        const at = now();
        if (!(await repo.updateMessage(messageId, Number(row.version), { body: null, mentions: '[]', attachments: '[]', deleted_at: at, deleted_by: principal.userId }))) {
          throw versionMismatch(Number(row.version) + 1);
        }
        await events.append<MessageDeletedPayload>(tx, {
          type: ChatEvents.messageDeleted,
          scopes: [`conversation:${id}`],
          payload: { conversationId: id, messageId, seq: Number(row.seq), deletedBy: principal.userId },
          actorId: principal.userId,
        });
      });
    },

    async addReaction(principal: Principal, id: string, messageId: string, emoji: string): Promise<MessageView> {
      await withTransaction(db, async (tx) => {
        const repo = chatRepo(tx);
        await requireMember(tx, id, principal.userId);
        const row = await repo.findMessage(id, messageId);
        if (!row) throw messageNotFound();
        if (row.deleted_at) throw new AppError(409, ChatErrors.CHAT_MESSAGE_DELETED, 'This message was deleted.');
        if ((await repo.distinctEmojis(messageId, principal.userId)) >= MAX_REACTIONS_PER_USER) {
          throw new AppError(422, 'VALIDATION_FAILED', `At most ${MAX_REACTIONS_PER_USER} reactions per person on a message.`, { errors: [{ path: '/body/emoji', message: 'too many reactions' }] });
        }
        if (await repo.insertReaction({ message_id: messageId, user_id: principal.userId, emoji, created_at: now() })) {
          await events.append<ReactionPayload>(tx, { type: ChatEvents.reactionAdded, scopes: [`conversation:${id}`], payload: { conversationId: id, messageId, userId: principal.userId, emoji }, actorId: principal.userId });
        }
      });
      return service.getMessage(principal, id, messageId);
    },

    async removeReaction(principal: Principal, id: string, messageId: string, emoji: string): Promise<void> {
      await withTransaction(db, async (tx) => {
        const repo = chatRepo(tx);
        await requireMember(tx, id, principal.userId);
        if (!(await repo.findMessage(id, messageId))) throw messageNotFound();
        if (!(await repo.deleteReaction(messageId, principal.userId, emoji))) throw new AppError(404, ChatErrors.CHAT_REACTION_NOT_FOUND, 'You have not reacted with this emoji.');
        await events.append<ReactionPayload>(tx, { type: ChatEvents.reactionRemoved, scopes: [`conversation:${id}`], payload: { conversationId: id, messageId, userId: principal.userId, emoji }, actorId: principal.userId });
      });
    },

    /** Reports a message to the administrators (an event on the `system` scope); once per person and message. */
    async report(principal: Principal, id: string, messageId: string, reason: string) {
      const reportId = newId('rpt');
      const at = now();
      await withTransaction(db, async (tx) => {
        const repo = chatRepo(tx);
        await requireMember(tx, id, principal.userId);
        const row = await repo.findMessage(id, messageId);
        if (!row) throw messageNotFound();
        if (await repo.findReport(messageId, principal.userId)) throw new AppError(409, ChatErrors.CHAT_ALREADY_REPORTED, 'You already reported this message.');
        await repo.insertReport({ id: reportId, message_id: messageId, conversation_id: id, reporter_id: principal.userId, reason: reason.trim(), created_at: at });
        await events.append<MessageReportedPayload>(tx, {
          type: ChatEvents.messageReported,
          scopes: ['system'],
          payload: { reportId, conversationId: id, messageId, reporterId: principal.userId, reason: reason.trim() },
          actorId: principal.userId,
        });
      }).catch((err: unknown) => {
        if (isDbError(err, 'unique')) throw new AppError(409, ChatErrors.CHAT_ALREADY_REPORTED, 'You already reported this message.');
        throw err;
      });
      return { id: reportId, messageId, conversationId: id, reason: reason.trim(), createdAt: at };
    },

    /** Mutes the conversation for the caller: messages still arrive and count as unread, but notify no more. */
    mute: (principal: Principal, id: string, input: MuteInput) => setMute(principal, id, muteEnd(input)),

    /** Ends the caller's mute (nothing to do when there is none). */
    unmute: async (principal: Principal, id: string): Promise<void> => void (await setMute(principal, id, null)),

    /**
     * Full-text search over the live messages (current text) of the caller's conversations, newest
     * first. A query without any word finds nothing.
     */
    async search(principal: Principal, query: SearchQuery): Promise<Page<SearchHitView>> {
      const me = principal.userId;
      if (query.conversationId) await requireMember(db, query.conversationId, me);
      const limit = query.limit ?? 20;
      let after: [string, string] | undefined;
      if (query.cursor) {
        const [at, messageId] = cursors.decode(query.cursor);
        if (typeof at !== 'string' || typeof messageId !== 'string') throw new AppError(400, 'PAGINATION_INVALID_CURSOR', 'The cursor is not one this server issued for this list.');
        after = [at, messageId];
      }
      const words = searchWords(query.q);
      if (!words.length) return { items: [], nextCursor: null };
      const rows = await chatRepo(db).searchMessages(me, words, { conversationId: query.conversationId, after, limit: limit + 1 });
      return toPage(rows, limit, cursors, (r) => [r.created_at, r.id], (r) => ({
        conversationId: r.conversation_id,
        messageId: r.id,
        seq: Number(r.seq),
        senderId: r.sender_id,
        createdAt: r.created_at,
        editedAt: r.edited_at,
        snippet: snippetOf(r.body ?? '', words),
      }));
    },

    /** Moves the caller's watermarks forward (never back, never past the last message). */
    async markRead(principal: Principal, id: string, input: MarkRead): Promise<ReadStateView> {
      const me = principal.userId;
      return withTransaction(db, async (tx) => {
        const repo = chatRepo(tx);
        const { conversation, member } = await requireMember(tx, id, me);
        const lastSeq = Number(conversation.last_seq);
        const readSeq = Math.min(lastSeq, Math.max(Number(member.read_seq), input.readSeq ?? 0));
        const deliveredSeq = Math.min(lastSeq, Math.max(Number(member.delivered_seq), readSeq, input.deliveredSeq ?? 0));
        await repo.advanceWatermarks(id, me, readSeq, deliveredSeq);
        const after = (await repo.findMember(id, me))!;
        const state = { readSeq: Number(after.read_seq), deliveredSeq: Number(after.delivered_seq) };
        if (state.readSeq > Number(member.read_seq) || state.deliveredSeq > Number(member.delivered_seq)) {
          await events.append<ConversationReadPayload>(tx, {
            type: ChatEvents.conversationRead,
            scopes: [`conversation:${id}`],
            payload: { conversationId: id, userId: me, ...state },
            actorId: me,
          });
        }
        return { conversationId: id, ...state, lastSeq, unreadCount: Math.max(0, lastSeq - state.readSeq) };
      });
    },

    /** The rooms a user's sockets join on connect: their conversations (the most recent first is not needed: all, up to 1,000). */
    async roomsOf(principal: Principal): Promise<string[]> {
      return (await chatRepo(db).conversationIdsOf(principal.userId, 1000)).map((id) => `conversation:${id}`);
    },

    /** Room authorizer for `presence:<userId>`: oneself, or someone one shares a conversation with. */
    async mayWatchPresence(principal: Principal, userId: string): Promise<boolean> {
      return userId === principal.userId || chatRepo(db).sharesConversation(principal.userId, userId);
    },

    /** Blocks a user: no direct messages between the two any more (groups and channels are unaffected). Idempotent. */
    async block(principal: Principal, userId: string): Promise<BlockView> {
      if (userId === principal.userId) throw new AppError(422, 'VALIDATION_FAILED', 'You cannot block yourself.', { errors: [{ path: '/body/userId', message: 'is the caller' }] });
      await requireUsers([userId], '/body/userId');
      const at = now();
      await withTransaction(db, async (tx) => void (await chatRepo(tx).insertBlock({ blocker_id: principal.userId, blocked_id: userId, created_at: at }))).catch((err: unknown) => {
        if (!isDbError(err, 'unique')) throw err;
      });
      const row = (await chatRepo(db).findBlock(principal.userId, userId))!;
      const names = await users.lookup([userId]);
      return { userId, displayName: names.get(userId)?.displayName ?? null, createdAt: row.created_at };
    },

    async unblock(principal: Principal, userId: string): Promise<void> {
      if (!(await chatRepo(db).deleteBlock(principal.userId, userId))) throw new AppError(404, ChatErrors.CHAT_BLOCK_NOT_FOUND, 'You have not blocked this person.');
    },

    async listBlocks(principal: Principal, page: { limit?: number; cursor?: string }): Promise<Page<BlockView>> {
      const limit = page.limit ?? 20;
      const after = page.cursor ? String(cursors.decode(page.cursor)[0]) : undefined;
      const rows = await chatRepo(db).listBlocks(principal.userId, limit + 1, after);
      const names = await users.lookup(rows.map((r) => r.blocked_id));
      return toPage(rows, limit, cursors, (r) => [r.blocked_id], (r) => ({ userId: r.blocked_id, displayName: names.get(r.blocked_id)?.displayName ?? null, createdAt: r.created_at }));
    },

    /** Brings an opened course channel's members in line with the course (after enrollment changes). */
    syncCourse: (courseId: string) => syncCourse(courseId, { create: false }),

    /** Room authorizer for `conversation:<id>`: members only. */
    async mayFollow(principal: Principal, id: string): Promise<boolean> {
      return Boolean(await chatRepo(db).findMember(id, principal.userId));
    },
  };
  return service;
}

const alreadyMember = () => new AppError(409, ChatErrors.CHAT_ALREADY_MEMBER, 'This person is already a member.');

const memberView = (row: MemberRow, displayName: string | null): MemberView => ({
  userId: row.user_id,
  displayName,
  role: row.role,
  readSeq: Number(row.read_seq),
  deliveredSeq: Number(row.delivered_seq),
  joinedAt: row.joined_at,
});

export type ChatService = ReturnType<typeof createChatService>;

import type { Clock } from '../../core/clock.js';
import type { Config } from '../../core/config/config.js';
import type { Database } from '../../core/db/database.js';
import type { EventLog } from '../../core/events/types.js';
import type { CursorCodec } from '../../core/http/pagination.js';
import type { JobContext, JobQueue } from '../../core/jobs/types.js';
import { defineModule, type LyceumModule } from '../../core/module.js';
import type { Principal } from '../../core/http/access.js';
import { AppError, CoreErrors } from '../../core/http/problem.js';
import { CHAT_PERMISSION, chatRoutes } from './chat.routes.js';
import { SocketRead, SocketSend } from './chat.schemas.js';
import { createChatService, type ChatService, type CourseMembership, type SendLimit, type UserLookup } from './chat.service.js';

import { ChatEvents } from './chat.events.js';
import { NOTIFY_JOB, type NotifyJob } from './chat-notify.js';
import { chatAccountErasure } from './account-erasure.js';

export { ChatEvents };
export type { ConversationReadPayload, MentionCreatedPayload, MessageCreatedPayload } from './chat.events.js';
export { ChatErrors } from './chat.errors.js';
export type { ChatService } from './chat.service.js';

/** What other modules may use of chat (through this file only). */
export interface ChatModule extends LyceumModule {
  service: ChatService;
}

/** The core services chat uses (a subset of app.ts's CoreServices, named here so imports flow one way). */
export interface ChatCore {
  config: Pick<Config, 'chat' | 'database'>;
  database: Database;
  clock: Clock;
  events: EventLog;
  cursors: CursorCodec;
  jobs: JobQueue;
}

/** The learning module's events after which a course channel's members are brought up to date. */
const COURSE_MEMBERSHIP_EVENTS = ['learning.enrollment.activated', 'learning.enrollment.ended', 'learning.course.updated'] as const;

export interface ChatDeps {
  /** Display names (identity's users directory). */
  identity: { users: UserLookup };
  /** Course channels follow enrollments; without it, there are no course channels. */
  learning?: { membership: CourseMembership };
  /** Per-user send limit (default 30 messages per 10 s). */
  sendLimit?: SendLimit;
}

/** Conversations (direct, group, course channel), messages with per-conversation seq, read watermarks and moderation. */
export async function createChatModule(core: ChatCore, deps: ChatDeps): Promise<ChatModule> {
  const { database, clock, events, cursors, jobs } = core;
  const service = createChatService({
    db: database.db,
    clock,
    events,
    cursors,
    users: deps.identity.users,
    jobs,
    notifyDelayMs: core.config.chat.notifyDelayMs,
    courses: deps.learning?.membership,
    sendLimit: deps.sendLimit,
    sendBatches: sendBatching(core.config.database),
  });
  const erasure = chatAccountErasure({ db: database.db, clock, events, jobs });

  return defineModule({
    name: 'chat',
    migrations: new URL('./migrations/', import.meta.url),
    realtimeNames: { [ChatEvents.messageCreated]: 'chat:message', [ChatEvents.conversationRead]: 'chat:read' },
    service,
    routes: chatRoutes({ service }),
    subscribers: [
      {
        // Course channels follow enrollments. Subscribers run on every node: the unique key makes it one job.
        name: 'chat.course-members',
        types: [...COURSE_MEMBERSHIP_EVENTS],
        handle: async (event) => {
          const { courseId } = event.payload as { courseId: string };
          await jobs.enqueue(database.db, 'chat.course.sync', { courseId }, { uniqueKey: `chat.course.sync:${event.id}` });
        },
      },
      erasure.subscriber,
    ],
    jobs: {
      'chat.course.sync': {
        async handle(job: JobContext<{ courseId: string }>) {
          await service.syncCourse(job.payload.courseId);
        },
      },
      [NOTIFY_JOB]: {
        handle: (job: JobContext<NotifyJob>) => service.notifyUnread(job.payload),
      },
      ...erasure.jobs,
    },
    rooms: { conversation: (principal, id) => service.mayFollow(principal, id), presence: (principal, userId) => service.mayWatchPresence(principal, userId) },
    socketRooms: (principal) => service.roomsOf(principal),
    socketCommands: {
      'chat:send': {
        schema: SocketSend,
        async handle(principal, payload: SocketSend) {
          const { conversationId, ...input } = payload;
          requireChatPermission(principal);
          return { message: (await service.send(principal, conversationId, input)).message };
        },
      },
      'chat:read': {
        schema: SocketRead,
        async handle(principal, payload: SocketRead) {
          const { conversationId, ...input } = payload;
          requireChatPermission(principal);
          return { read: await service.markRead(principal, conversationId, input) };
        },
      },
    },
  });
}

/** The same rule as the HTTP routes: chat needs `community:post`. */
function requireChatPermission(principal: Principal) {
  if (!principal.permissions.has(CHAT_PERMISSION)) throw new AppError(403, CoreErrors.FORBIDDEN, `Requires the ${CHAT_PERMISSION} permission.`);
}

/**
 * How chat batches its sends (group-commit.ts). PostgreSQL: half the pool's connections run batches
 * side by side, and leave the rest to requests and jobs. SQLite runs one transaction at a time, but a
 * batch that has committed waits for the WAL's disk sync off the connection (sqlite-wal-sync.ts), and
 * the next batch runs meanwhile: two at once. Its batches are larger too, since SQLite's cost per
 * message falls with the batch (one commit, one context read and one append for all of it). Under a
 * sustained load of 10,000 senders (docs/benchmarks.md), two batches of up to 500 acknowledged about a
 * third more messages per second than one of up to 100 (3 alternating pairs: 5,143–5,433 against
 * 3,692–4,153); with one at a time, the thread that serves requests sat idle for 15% of the load,
 * waiting for syncs.
 */
function sendBatching(database: Config['database']): { concurrency: number; maxBatch: number } {
  if (database.kind === 'postgres') return { concurrency: Math.max(1, Math.floor(database.poolMax / 2)), maxBatch: 100 };
  return { concurrency: 2, maxBatch: 500 };
}

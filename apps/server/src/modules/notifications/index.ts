import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { Config } from '../../core/config/config.js';
import type { Database } from '../../core/db/database.js';
import type { EventLog } from '../../core/events/types.js';
import type { CursorCodec } from '../../core/http/pagination.js';
import type { JobQueue } from '../../core/jobs/types.js';
import type { Mailer } from '../../core/mail/mailer.js';
import { defineModule, type LyceumModule } from '../../core/module.js';
import { randomSecret, type SecretStore } from '../../core/secrets.js';
import type { IdentityModule } from '../identity/index.js';
import { IdentityEvents } from '../identity/index.js';
import { createChannels, EMAIL_JOB, type Channels } from './channels.service.js';
import { notificationRoutes } from './notifications.routes.js';
import { preferenceRoutes } from './preferences.routes.js';
import { createPush, PUSH_JOB, type Push } from './push.service.js';
import { pushRoutes } from './push.routes.js';
import { announcementRoutes } from './announcements.routes.js';
import { BATCH_JOB, createAnnouncements, FANOUT_JOB, type CourseMembership } from './announcements.service.js';
import { createWebPush } from '../../core/push/web-push.js';
import { createNotificationsService, type NotificationsService } from './notifications.service.js';
import { concernsOthers, SOURCE_TYPES } from './notifications.sources.js';
import { createDigests, DIGEST_CRON, DIGEST_JOB, DIGEST_RESCHEDULE_JOB, type Digests } from './digests.service.js';
import { createSms, SMS_CODE_JOB, SMS_JOB, type Sms } from './sms.service.js';
import { smsRoutes } from './sms.routes.js';
import { createTwilioSms } from '../../core/sms/twilio.js';

import { NotificationsEvents } from './notifications.events.js';

export { NotificationsEvents };
export { CATEGORIES, type Category } from './notifications.schemas.js';
export type { CourseMembership } from './announcements.service.js';

/** What other modules may use of notifications (through this file only). */
export interface NotificationsModule extends LyceumModule {
  service: NotificationsService;
  channels: Channels;
  push: Push;
  digests: Digests;
  sms: Sms;
}

/** The core services notifications uses (a subset of app.ts's CoreServices). */
export interface NotificationsCore {
  config: Config;
  database: Database;
  clock: Clock;
  logger: FastifyBaseLogger;
  events: EventLog;
  jobs: JobQueue;
  mailer: Mailer;
  cursors: CursorCodec;
  secrets: SecretStore;
}

export interface NotificationsDeps {
  identity: Pick<IdentityModule, 'users' | 'service'>;
  learning?: { membership: CourseMembership };
  /** How long after a digest window closes it is handled, so that late commits are in it (default 1 minute). */
  digestGraceMs?: number;
}

export const INGEST_JOB = 'notifications.ingest';

/** The inbox fed by other modules' events, delivered live over the realtime gateway. */
export async function createNotificationsModule(core: NotificationsCore, deps: NotificationsDeps): Promise<NotificationsModule> {
  const { config, database, clock, events, jobs, mailer, cursors, logger, secrets } = core;
  const { db } = database;
  const service = createNotificationsService({ db, clock, events, cursors, users: deps.identity.users });
  const channels = createChannels({
    db, clock, events, jobs, mailer, logger,
    accounts: { me: (userId) => deps.identity.service.me(userId) },
    users: deps.identity.users,
    publicUrl: config.publicUrl,
    unsubscribeSecret: await secrets.getOrCreate('notifications-unsubscribe-secret', randomSecret),
    delays: { email: config.notifications.emailDelayMs, push: config.notifications.pushDelayMs, sms: config.notifications.smsDelayMs },
  });
  const digests = createDigests({
    db, clock, events, mailer, logger,
    accounts: { me: (userId) => deps.identity.service.me(userId) },
    users: deps.identity.users,
    publicUrl: config.publicUrl,
    unsubscribeUrl: (userId, cadence) => channels.unsubscribeUrl(userId, `digest:${cadence}`),
    graceMs: deps.digestGraceMs,
  });
  const transport = await createWebPush({ secrets, subject: vapidSubject(config.mailFrom, config.publicUrl) });
  const push = createPush({ db, clock, channels, transport, publicUrl: config.publicUrl, allowInsecureEndpoints: config.env !== 'production', allowedHosts: config.pushEndpointHosts });
  const pushApi = pushRoutes(push);
  const sms = createSms({
    db, clock, jobs, channels, logger,
    provider: config.sms ? createTwilioSms(config.sms) : undefined,
    codeSecret: await secrets.getOrCreate('notifications-sms-code-secret', randomSecret),
    publicUrl: config.publicUrl,
  });
  const smsApi = smsRoutes(sms);
  const announcements = deps.learning ? createAnnouncements({ db, clock, events, jobs, membership: deps.learning.membership, inbox: service }) : undefined;
  const announcementApi = announcements ? announcementRoutes(announcements) : undefined;
  service.setHooks(channels.hooks);
  const routes = notificationRoutes(service);
  const preferenceApi = preferenceRoutes(channels);

  return defineModule({
    name: 'notifications',
    migrations: new URL('./migrations/', import.meta.url),
    realtimeNames: { [NotificationsEvents.created]: 'notification:new' },
    service,
    channels,
    push,
    digests,
    sms,
    routes: async (app) => {
      await routes(app);
      await preferenceApi(app);
      await pushApi(app);
      await smsApi(app);
      await announcementApi?.(app);
    },
    subscribers: [
      {
        // Every node sees every event; the unique key makes one ingestion job of it, retried with backoff.
        name: 'notifications.inbox',
        types: [...SOURCE_TYPES],
        handle: async (event) => {
          if (!concernsOthers(event)) return;
          await jobs.enqueue(db, INGEST_JOB, { event }, { uniqueKey: `${INGEST_JOB}:${event.id}` });
        },
      },
      {
        name: 'notifications.read-elsewhere',
        types: ['chat.conversation.read'],
        handle: async (event) => {
          const { conversationId, userId } = (event.payload ?? {}) as { conversationId?: unknown; userId?: unknown };
          if (typeof conversationId !== 'string' || typeof userId !== 'string') return;
          await service.markEntityRead(userId, { type: 'conversation', id: conversationId }, ['message', 'mention']);
        },
      },
      {
        // Every node sees the change; the unique key makes one job of it.
        name: 'notifications.profile-time-zone',
        types: [IdentityEvents.userUpdated],
        handle: async (event) => {
          const { userId, fields } = (event.payload ?? {}) as { userId?: unknown; fields?: unknown };
          if (typeof userId !== 'string' || !Array.isArray(fields) || !fields.includes('timeZone')) return;
          await jobs.enqueue(db, DIGEST_RESCHEDULE_JOB, { userId }, { uniqueKey: `${DIGEST_RESCHEDULE_JOB}:${event.id}` });
        },
      },
      {
        name: 'notifications.user-deleted',
        types: [IdentityEvents.userDeleted],
        handle: async (event) => {
          const { userId } = (event.payload ?? {}) as { userId?: unknown };
          if (typeof userId !== 'string') return;
          await service.forgetUser(userId);
          await channels.forgetUser(userId);
          await digests.forgetUser(userId);
          await sms.forgetUser(userId);
        },
      },
    ],
    jobs: {
      [INGEST_JOB]: {
        maxAttempts: 10,
        backoffMs: 2000,
        async handle({ payload }) {
          const stored = await service.ingest((payload as { event: Parameters<NotificationsService['ingest']>[0] }).event);
          if (stored.length) logger.debug({ count: stored.length }, 'notifications stored');
        },
      },
      ...(announcements
        ? {
            [FANOUT_JOB]: { maxAttempts: 10, backoffMs: 5000, handle: (job: { payload: { announcementId: string } }) => announcements.fanout(job.payload.announcementId) },
            [BATCH_JOB]: { maxAttempts: 10, backoffMs: 5000, handle: (job: { payload: { announcementId: string; userIds: string[] } }) => announcements.deliverBatch(job.payload.announcementId, job.payload.userIds) },
          }
        : {}),
      [PUSH_JOB]: { maxAttempts: 6, backoffMs: 30_000, timeoutMs: 60_000, handle: (job) => push.sendPush(job) },
      [SMS_JOB]: { maxAttempts: 6, backoffMs: 30_000, timeoutMs: 60_000, handle: (job) => sms.sendSms(job) },
      [SMS_CODE_JOB]: { maxAttempts: 4, backoffMs: 5_000, timeoutMs: 60_000, handle: (job) => sms.sendCode(job) },
      [EMAIL_JOB]: { maxAttempts: 8, backoffMs: 30_000, timeoutMs: 60_000, handle: (job) => channels.sendEmail(job) },
      [DIGEST_RESCHEDULE_JOB]: { maxAttempts: 5, backoffMs: 5_000, handle: (job: { payload: { userId: string } }) => digests.reschedule(job.payload.userId) },
      [DIGEST_JOB]: {
        maxAttempts: 5,
        backoffMs: 60_000,
        timeoutMs: 10 * 60_000,
        async handle() {
          const { users, sent } = await digests.runDue();
          if (users) logger.info({ users, sent }, 'notification digests handled');
        },
      },
    },
    schedules: [{ name: DIGEST_JOB, cron: DIGEST_CRON, job: DIGEST_JOB }],
  });
}

/** The VAPID `sub`: the sender's mail address, or the public URL when it is https. */
function vapidSubject(mailFrom: string, publicUrl: string): string {
  const address = /<?([^<>\s]+@[^<>\s]+)>?\s*$/.exec(mailFrom)?.[1];
  if (publicUrl.startsWith('https://')) return publicUrl;
  return `mailto:${address ?? 'admin@example.com'}`;
}

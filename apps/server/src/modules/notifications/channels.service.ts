import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { Db, Tx } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import { versionMismatch } from '../../core/http/etag.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { JobContext, JobQueue } from '../../core/jobs/types.js';
import type { Mailer } from '../../core/mail/mailer.js';
import { normaliseTimeZone } from '../../core/time-zone.js';
import type { UsersDirectory } from '../identity/index.js';
import { renderEmail, type Content } from './email-templates.js';
import { NotificationsErrors } from './notifications.errors.js';
import { NotificationsEvents } from './notifications.events.js';
import { channelsRepo, notificationsRepo } from './notifications.repo.js';
import { CATEGORIES, type Category, type ChannelName, type PreferencesUpdate, type PreferencesView, type UnsubscribedView } from './notifications.schemas.js';
import type { DeliveryHooks } from './notifications.service.js';
import type { NotificationSpec } from './notifications.sources.js';
import type { Channel, DeliveryRow, NotificationRow, PreferenceRow } from './notifications.tables.js';
import { quietUntil } from './quiet-hours.js';
import { nextWindowEnd, type Cadence, type DigestCadence, type Weekday } from './digests.windows.js';

export const EMAIL_JOB = 'notifications.email';
/** The job that runs a delivery on `channel` (`notifications.email`, `notifications.push`, `notifications.sms`). */
const jobOf = (channel: Channel) => `notifications.${channel}`;

type Switches = Record<ChannelName, boolean>;

/** What a user gets before changing anything: everything in the inbox; mail and push for what concerns them directly; SMS for security only. */
export const DEFAULT_CHANNELS: Record<Category, Switches> = {
  comment: { inApp: true, email: true, push: true, sms: false },
  mention: { inApp: true, email: true, push: true, sms: false },
  message: { inApp: true, email: true, push: true, sms: false },
  reaction: { inApp: true, email: false, push: false, sms: false },
  follow: { inApp: true, email: false, push: false, sms: false },
  enrollment: { inApp: true, email: true, push: true, sms: false },
  grade: { inApp: true, email: true, push: true, sms: false },
  announcement: { inApp: true, email: true, push: true, sms: false },
  // SMS costs money and interrupts: only security notices by default (once a number is verified).
  security: { inApp: true, email: true, push: true, sms: true },
};
/** What a one-click unsubscribe link unsubscribes from: one category's emails, or one digest. */
export const MAILING_LISTS = [...CATEGORIES, 'digest:daily', 'digest:weekly'] as const;
export type MailingList = (typeof MAILING_LISTS)[number];
const isDigestList = (list: MailingList): list is 'digest:daily' | 'digest:weekly' => list.startsWith('digest:');

/** Security notices go out on every channel, whatever the preferences, mute or quiet hours. */
export const ALWAYS_ON: Category[] = ['security'];

/** An account's address, from identity (`me`); throws a 404 AppError when there is no such account. */
export interface AccountLookup {
  me(userId: string): Promise<{ email: string }>;
}

export interface ChannelsDeps {
  db: Db;
  clock: Clock;
  events: EventLog;
  jobs: JobQueue;
  mailer: Mailer;
  logger: FastifyBaseLogger;
  accounts: AccountLookup;
  /** Profile time zones, for preferences that name none. */
  users: Pick<UsersDirectory, 'lookup'>;
  publicUrl: string;
  unsubscribeSecret: string;
  /** How long each channel waits before sending, so that reading the notification in the app first suppresses it. */
  delays: Record<Channel, number>;
}

/** What `notifications_preference.digest` holds: the global cadence, when digests close, and per-category cadences. */
export interface DigestSettings {
  cadence: Cadence;
  hour: number;
  weekday: Weekday;
  categories: Partial<Record<Category, Cadence>>;
}
export const DEFAULT_DIGEST: DigestSettings = { cadence: 'off', hour: 8, weekday: 'monday', categories: {} };

/** Where the zone of quiet hours and digests comes from: the preferences, else the profile, else UTC. */
export type TimeZoneSource = 'preferences' | 'profile' | 'default';

export interface Prefs {
  muted: boolean;
  timeZone: string;
  timeZoneSource: TimeZoneSource;
  quietHours: { start: string; end: string } | null;
  channels: Record<Category, Switches>;
  digest: DigestSettings;
  version: number;
}

/** The preferences in effect; `profileZone` is the user's profile time zone, used when the preferences name none. */
export function parsePrefs(row: PreferenceRow | undefined, profileZone: string | null): Prefs {
  const stored = row ? (JSON.parse(row.channels) as Partial<Record<Category, Partial<Switches>>>) : {};
  const channels = Object.fromEntries(CATEGORIES.map((c) => [c, { ...DEFAULT_CHANNELS[c], ...stored[c] }])) as Record<Category, Switches>;
  for (const c of ALWAYS_ON) channels[c] = { inApp: true, email: true, push: true, sms: true };
  return {
    muted: Boolean(row?.muted),
    timeZone: row?.time_zone ?? profileZone ?? 'UTC',
    timeZoneSource: row?.time_zone ? 'preferences' : profileZone ? 'profile' : 'default',
    quietHours: row?.quiet_start && row.quiet_end ? { start: row.quiet_start, end: row.quiet_end } : null,
    channels,
    digest: row?.digest ? { ...DEFAULT_DIGEST, ...(JSON.parse(row.digest) as Partial<DigestSettings>) } : DEFAULT_DIGEST,
    version: row ? Number(row.version) : 0,
  };
}

/** Only quiet hours and digests use a zone: preferences with either and no zone of their own follow the profile's. */
const followsProfileZone = (row: PreferenceRow | undefined): row is PreferenceRow => row !== undefined && row.time_zone === null && (row.quiet_start !== null || row.digest_next_at !== null);

/** Whether `channel` may carry this category now, and why not. */
export function allowed(p: Prefs, category: Category, channel: ChannelName): string | null {
  if (ALWAYS_ON.includes(category)) return null;
  if (channel !== 'inApp' && p.muted) return 'muted';
  if (!p.channels[category][channel]) return 'preferences';
  return null;
}

/** The digest cadence in effect for a category (security notices are never held for a digest). */
export function cadenceOf(p: Prefs, category: Category): Cadence {
  if (ALWAYS_ON.includes(category)) return 'off';
  return p.digest.categories[category] ?? p.digest.cadence;
}

/** The categories a digest of `cadence` gathers: on that cadence, with email allowed (not muted, not switched off). */
export function digestCategories(p: Prefs, cadence: DigestCadence): Category[] {
  return CATEGORIES.filter((c) => cadenceOf(p, c) === cadence && allowed(p, c, 'email') === null);
}

/** When the user's next digest window closes after `after`, or null when nothing is digested. */
export function digestNextAt(p: Prefs, after: Date): string | null {
  const ends = (['daily', 'weekly'] as const).filter((c) => digestCategories(p, c).length > 0).map((c) => nextWindowEnd(c, p.digest, p.timeZone, after).getTime());
  return ends.length ? new Date(Math.min(...ends)).toISOString() : null;
}

const toView = (p: Prefs): PreferencesView => ({
  muted: p.muted,
  timeZone: p.timeZone,
  timeZoneSource: p.timeZoneSource,
  quietHours: p.quietHours,
  categories: p.channels,
  alwaysOn: ALWAYS_ON,
  digest: { cadence: p.digest.cadence, hour: p.digest.hour, weekday: p.digest.weekday, categories: Object.fromEntries(CATEGORIES.map((c) => [c, cadenceOf(p, c)])) as Record<Category, Cadence> },
  version: p.version,
});

/** Preferences, the email channel (and the hooks that decide, per notification, what goes where). */
export function createChannels(deps: ChannelsDeps) {
  const { db, clock, events, jobs, mailer, logger, accounts, users, publicUrl, unsubscribeSecret, delays } = deps;
  const iso = () => clock.now().toISOString();
  const sign = (data: string) => createHmac('sha256', unsubscribeSecret).update(`unsubscribe:${data}`).digest().subarray(0, 18).toString('base64url');

  /** The signed token of a one-click unsubscribe link: from one category's emails, or from one digest. */
  function unsubscribeToken(userId: string, list: MailingList): string {
    const data = Buffer.from(`${userId} ${list}`).toString('base64url');
    return `${data}.${sign(data)}`;
  }

  function readToken(token: string): { userId: string; list: MailingList } | null {
    const [data, mac, extra] = token.split('.');
    if (!data || !mac || extra !== undefined) return null;
    const given = Buffer.from(mac, 'base64url');
    const expected = Buffer.from(sign(data), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const [userId, list] = Buffer.from(data, 'base64url').toString('utf8').split(' ');
    if (!userId || !(MAILING_LISTS as readonly string[]).includes(list ?? '')) return null;
    return { userId, list: list as MailingList };
  }

  /** The one-click unsubscribe URL, for the `List-Unsubscribe` header and the email's footer. */
  const unsubscribeUrl = (userId: string, list: MailingList) => `${publicUrl}/api/v1/notifications/unsubscribe?t=${unsubscribeToken(userId, list)}`;

  /** Profile time zones by user, read through `handle` when it is an open transaction (SQLite has one connection). */
  async function profileZones(handle: Db | Tx, userIds: readonly string[]): Promise<Map<string, string | null>> {
    if (!userIds.length) return new Map();
    const found = await users.lookup(userIds, handle.isTransaction ? (handle as Tx) : undefined);
    return new Map([...found].map(([id, user]) => [id, user.timeZone]));
  }
  const profileZoneOf = async (handle: Db | Tx, userId: string) => (await profileZones(handle, [userId])).get(userId) ?? null;

  /** The preferences in effect. The profile is read only when it matters (`followsProfileZone`), or `always`, to show it. */
  async function load(handle: Db | Tx, userId: string, always = false): Promise<Prefs> {
    const row = await channelsRepo(handle).findPreferences(userId);
    return parsePrefs(row, always || followsProfileZone(row) ? await profileZoneOf(handle, userId) : null);
  }

  /** The deliveries' preferences, for every recipient of a chunk in one query. */
  async function loadMany(tx: Tx, userIds: readonly string[]): Promise<Map<string, Prefs>> {
    const rows = new Map((await channelsRepo(tx).preferencesOf(userIds)).map((row) => [row.user_id, row]));
    const zones = await profileZones(tx, [...rows.values()].filter(followsProfileZone).map((row) => row.user_id));
    return new Map(userIds.map((userId) => [userId, parsePrefs(rows.get(userId), zones.get(userId) ?? null)]));
  }

  /** A delivery of `spec` on `channel`: queued after the channel's delay (or the end of quiet hours), or recorded as digested. */
  function deliveryOf(spec: NotificationSpec, row: NotificationRow | null, channel: Channel, p: Prefs, now: Date, digested = false): DeliveryRow {
    const urgent = ALWAYS_ON.includes(spec.category);
    let notBefore = new Date(now.getTime() + (urgent || digested ? 0 : delays[channel]));
    const quietEnd = urgent || digested ? null : quietUntil(notBefore, p.timeZone, p.quietHours?.start ?? null, p.quietHours?.end ?? null);
    if (quietEnd && quietEnd > notBefore) notBefore = quietEnd;
    return {
      id: newId('dlv'),
      user_id: spec.userId,
      notification_id: row?.id ?? null,
      source_key: spec.sourceKey,
      category: spec.category,
      channel,
      status: digested ? 'suppressed' : 'queued',
      reason: digested ? 'digest' : quietEnd ? 'quiet-hours' : null,
      attempts: 0,
      last_error: null,
      content: JSON.stringify({ title: spec.title, body: spec.body, link: spec.link } satisfies Content),
      not_before: notBefore.toISOString(),
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    };
  }

  /** Extra channels (push, SMS) register here, with the users among a chunk's recipients they can reach (a device, a verified number). */
  const extraChannels: Array<{ channel: Channel; reachable: (tx: Tx, userIds: readonly string[]) => Promise<Set<string>> }> = [];

  /** Records every delivery of a chunk's stored entries and queues the channels' jobs, in a few statements. */
  async function scheduleAll(tx: Tx, stored: ReadonlyArray<{ spec: NotificationSpec; row: NotificationRow | null }>, prefs: Map<string, Prefs>): Promise<void> {
    const now = clock.now();
    const wants = (spec: NotificationSpec, channel: ChannelName) => allowed(prefs.get(spec.userId)!, spec.category, channel) === null;
    const reachable = new Map<Channel, Set<string>>();
    for (const extra of extraChannels) {
      const candidates = [...new Set(stored.filter(({ spec }) => wants(spec, extra.channel)).map(({ spec }) => spec.userId))];
      reachable.set(extra.channel, candidates.length ? await extra.reachable(tx, candidates) : new Set());
    }
    const deliveries: DeliveryRow[] = [];
    for (const { spec, row } of stored) {
      const p = prefs.get(spec.userId)!;
      if (wants(spec, 'email')) {
        // A digested category is not emailed one by one: the decision is recorded, the digest job gathers
        // it from the inbox (an entry kept out of the inbox, `inApp: false`, is still emailed on its own).
        deliveries.push(deliveryOf(spec, row, 'email', p, now, row !== null && cadenceOf(p, spec.category) !== 'off'));
      }
      for (const extra of extraChannels) {
        if (wants(spec, extra.channel) && reachable.get(extra.channel)!.has(spec.userId)) deliveries.push(deliveryOf(spec, row, extra.channel, p, now));
      }
    }
    const inserted = await channelsRepo(tx).insertDeliveries(deliveries);
    await jobs.enqueueMany(
      tx,
      deliveries
        .filter((d) => d.status === 'queued' && inserted.has(d.id))
        .map((d) => ({ name: jobOf(d.channel), payload: { deliveryId: d.id }, options: { runAt: new Date(d.not_before), uniqueKey: `${jobOf(d.channel)}:${d.id}` } })),
    );
  }

  const hooks: DeliveryHooks = {
    async forRecipients(tx, userIds) {
      const prefs = await loadMany(tx, userIds);
      return {
        wantsInApp: (spec) => allowed(prefs.get(spec.userId)!, spec.category, 'inApp') === null,
        afterStore: (tx, stored) => scheduleAll(tx, stored, prefs),
      };
    },
  };

  /**
   * Runs one queued delivery: suppressed when the notification was read (or deleted) in the app
   * meanwhile or the preferences changed, held again when quiet hours began, otherwise handed to
   * `send`. Every outcome is recorded on the delivery row; a failure is retried by the job queue.
   */
  async function runDelivery<T>(job: JobContext<{ deliveryId: string }>, prepare: (delivery: DeliveryRow) => Promise<T>, send: (delivery: DeliveryRow, tx: Tx, prepared: T) => Promise<void>): Promise<void> {
    const repo = channelsRepo(db);
    const delivery = await repo.findDelivery(job.payload.deliveryId);
    if (!delivery || delivery.status !== 'queued') return;
    const category = delivery.category as Category;
    const urgent = ALWAYS_ON.includes(category);
    const suppress = (reason: string) => repo.settleDelivery(delivery.id, { status: 'suppressed', reason, updated_at: iso() }, false);
    if (!urgent) {
      if (delivery.notification_id) {
        const row = await notificationsRepo(db).findById(delivery.notification_id);
        if (!row) return void (await suppress('deleted-in-app'));
        if (row.read_at !== null) return void (await suppress('read-in-app'));
      }
      const p = await load(db, delivery.user_id);
      const refusal = allowed(p, category, delivery.channel);
      if (refusal) return void (await suppress(refusal));
      // Switched to a digest while it waited: the digest carries it (unless read by then).
      if (delivery.channel === 'email' && delivery.notification_id && cadenceOf(p, category) !== 'off') return void (await suppress('digest'));
      const quietEnd = quietUntil(clock.now(), p.timeZone, p.quietHours?.start ?? null, p.quietHours?.end ?? null);
      if (quietEnd) {
        // Quiet hours began (or moved) since it was queued: hold it again until they end.
        await withTransaction(db, async (tx) => {
          await channelsRepo(tx).settleDelivery(delivery.id, { reason: 'quiet-hours', not_before: quietEnd.toISOString(), updated_at: iso() }, false);
          await jobs.enqueue(tx, job.name, { deliveryId: delivery.id }, { runAt: quietEnd, uniqueKey: `${job.name}:${delivery.id}:${quietEnd.toISOString()}` });
        });
        return;
      }
    }
    try {
      const prepared = await prepare(delivery);
      await withTransaction(db, async (tx) => {
        if (!(await channelsRepo(tx).settleDelivery(delivery.id, { status: 'sent', reason: null, last_error: null, updated_at: iso() }, true))) return;
        await send(delivery, tx, prepared);
      });
    } catch (err) {
      const permanent = err instanceof PermanentDeliveryError;
      const last = permanent || job.attempt >= job.maxAttempts;
      const message = err instanceof Error ? err.message.slice(0, 500) : String(err).slice(0, 500);
      await repo.settleDelivery(delivery.id, last ? { status: 'failed', reason: permanent ? err.reason : 'attempts-exhausted', last_error: message, updated_at: iso() } : { last_error: message, updated_at: iso() }, true);
      if (!last) throw err;
      logger.warn({ deliveryId: delivery.id, channel: delivery.channel, err: message }, 'notification delivery failed');
    }
  }

  return {
    hooks,
    unsubscribeUrl,
    runDelivery,
    addChannel(channel: Channel, reachable: (tx: Tx, userIds: readonly string[]) => Promise<Set<string>>) {
      extraChannels.push({ channel, reachable });
    },

    async preferences(userId: string): Promise<PreferencesView> {
      return toView(await load(db, userId, true));
    },

    async updatePreferences(userId: string, expected: number | undefined, patch: PreferencesUpdate): Promise<PreferencesView> {
      const timeZone = patch.timeZone ? normaliseTimeZone(patch.timeZone) : patch.timeZone;
      if (patch.timeZone && !timeZone) {
        throw new AppError(422, NotificationsErrors.NOTIFICATIONS_TIME_ZONE_INVALID, `Unknown time zone "${patch.timeZone}"; use an IANA name such as Europe/Paris.`, { errors: [{ path: '/body/timeZone', message: 'unknown IANA time zone' }] });
      }
      if (patch.quietHours && patch.quietHours.start === patch.quietHours.end) {
        throw new AppError(422, NotificationsErrors.NOTIFICATIONS_QUIET_HOURS_INVALID, 'Quiet hours must start and end at different times.', { errors: [{ path: '/body/quietHours', message: 'start equals end' }] });
      }
      const profileZone = await profileZoneOf(db, userId);
      return withTransaction(db, async (tx) => {
        const repo = channelsRepo(tx);
        const stored = await repo.findPreferences(userId);
        const current = parsePrefs(stored, profileZone);
        if (expected !== undefined && expected !== current.version) throw versionMismatch(current.version);
        const overrides = stored ? (JSON.parse(stored.channels) as Partial<Record<Category, Partial<Switches>>>) : {};
        for (const [category, switches] of Object.entries(patch.categories ?? {}) as Array<[Category, Partial<Switches> | undefined]>) {
          if (!switches || ALWAYS_ON.includes(category)) continue;
          overrides[category] = { ...overrides[category], ...switches };
        }
        const quiet = patch.quietHours === undefined ? current.quietHours : patch.quietHours;
        const digest: DigestSettings = { ...current.digest, categories: { ...current.digest.categories } };
        if (patch.digest) {
          const { categories, ...rest } = patch.digest;
          Object.assign(digest, Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
          for (const [category, cadence] of Object.entries(categories ?? {}) as Array<[Category, Cadence | null | undefined]>) {
            if (cadence === undefined || ALWAYS_ON.includes(category)) continue;
            if (cadence === null) delete digest.categories[category];
            else digest.categories[category] = cadence;
          }
        }
        const row: PreferenceRow = {
          user_id: userId,
          muted: (patch.muted ?? current.muted) ? 1 : 0,
          time_zone: timeZone === undefined ? (stored?.time_zone ?? null) : timeZone,
          quiet_start: quiet?.start ?? null,
          quiet_end: quiet?.end ?? null,
          channels: JSON.stringify(overrides),
          version: current.version + 1,
          updated_at: iso(),
          digest: JSON.stringify(digest),
          digest_next_at: null,
        };
        const next = parsePrefs(row, profileZone);
        row.digest_next_at = digestNextAt(next, clock.now());
        if (!(await repo.savePreferences(row, current.version))) throw versionMismatch(current.version + 1);
        const view = toView(next);
        await events.append(tx, { type: NotificationsEvents.preferencesUpdated, scopes: [`user:${userId}`], payload: { userId, version: row.version }, actorId: userId });
        return view;
      });
    },

    /**
     * One-click unsubscribe (RFC 8058). From a category's email: email for that category goes off.
     * From a digest: that digest goes off, and so does email for the categories it gathered, which
     * would otherwise come one by one: unsubscribing must never bring more mail.
     */
    async unsubscribe(token: string): Promise<UnsubscribedView> {
      const target = readToken(token);
      if (!target || (ALWAYS_ON as string[]).includes(target.list)) throw new AppError(404, NotificationsErrors.NOTIFICATIONS_UNSUBSCRIBE_INVALID, 'This unsubscribe link is not valid.');
      const { userId, list } = target;
      for (let attempt = 0; ; attempt++) {
        const p = await load(db, userId);
        try {
          if (!isDigestList(list)) {
            await this.updatePreferences(userId, p.version, { categories: { [list]: { email: false } } });
            return { category: list, email: false };
          }
          const cadence = list === 'digest:daily' ? 'daily' : 'weekly';
          const gathered = digestCategories(p, cadence);
          await this.updatePreferences(userId, p.version, {
            categories: Object.fromEntries(gathered.map((c) => [c, { email: false }])),
            digest: {
              ...(p.digest.cadence === cadence ? { cadence: 'off' as const } : {}),
              categories: Object.fromEntries(CATEGORIES.filter((c) => p.digest.categories[c] === cadence).map((c) => [c, null])),
            },
          });
          return { digest: cadence, categories: gathered };
        } catch (err) {
          if (!(err instanceof AppError && err.status === 412) || attempt >= 3) throw err;
        }
      }
    },

    async sendEmail(job: JobContext<{ deliveryId: string }>): Promise<void> {
      await runDelivery(
        job,
        async (delivery) => {
          // Read outside the transaction (SQLite has one connection).
          try {
            return (await accounts.me(delivery.user_id)).email;
          } catch (err) {
            if (err instanceof AppError && err.status === 404) throw new PermanentDeliveryError('no-account', 'The account no longer exists.');
            throw err;
          }
        },
        async (delivery, tx, email) => {
          const category = delivery.category as Category;
          const content = JSON.parse(delivery.content) as Content;
          const unsubscribe = unsubscribeUrl(delivery.user_id, category);
          const rendered = renderEmail(category, content, { open: `${publicUrl}${content.link}`, preferences: `${publicUrl}/settings/notifications`, unsubscribe });
          const headers: Record<string, string> = ALWAYS_ON.includes(category) ? {} : { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
          await mailer.send(tx, { to: email, ...rendered, headers, category: `notifications.${category}` });
        },
      );
    },

    async deliveries(userId: string) {
      return channelsRepo(db).deliveriesOf(userId);
    },

    async forgetUser(userId: string) {
      await withTransaction(db, (tx) => channelsRepo(tx).deleteUser(userId));
    },
  };
}

/** A failure that retrying cannot fix (the account is gone, the push subscription expired). */
export class PermanentDeliveryError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export type Channels = ReturnType<typeof createChannels>;

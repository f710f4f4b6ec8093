import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { Mailer } from '../../core/mail/mailer.js';
import type { UsersDirectory } from '../identity/index.js';
import { digestCategories, digestNextAt, parsePrefs, type AccountLookup, type Prefs } from './channels.service.js';
import { renderDigest } from './digests.email.js';
import { digestsRepo } from './digests.repo.js';
import { closedWindow, type DigestCadence, type Window } from './digests.windows.js';
import { NotificationsEvents, type DigestSentPayload } from './notifications.events.js';
import { channelsRepo } from './notifications.repo.js';
import type { Category } from './notifications.schemas.js';
import { toView } from './notifications.service.js';
import type { DigestRow, PreferenceRow } from './notifications.tables.js';

export const DIGEST_JOB = 'notifications.digest';
/** Moves a user's next digest to their new profile time zone's hours. */
export const DIGEST_RESCHEDULE_JOB = 'notifications.digest.reschedule';
/**
 * Every 15 minutes, one minute past the quarter hour: a window closing on the hour (or the half or
 * quarter hour, in zones such as Asia/Kolkata) is handled one minute later, after the grace period.
 */
export const DIGEST_CRON = '1,16,31,46 * * * *';

export interface DigestsDeps {
  db: Db;
  clock: Clock;
  events: EventLog;
  mailer: Mailer;
  logger: FastifyBaseLogger;
  accounts: AccountLookup;
  /** Profile time zones, for preferences that name none. */
  users: Pick<UsersDirectory, 'lookup'>;
  publicUrl: string;
  /** The one-click unsubscribe URL of a user's digest (RFC 8058). */
  unsubscribeUrl: (userId: string, cadence: DigestCadence) => string;
  /**
   * A window is handled only this long after it closed, so that an entry stored just before the
   * end by a transaction still committing is in it (default 1 minute).
   */
  graceMs?: number;
}

/** Users handled per query; a run goes through every due user in keyset order. */
const BATCH = 100;
/** Entries listed in one digest email; the rest are counted ("…and 12 more in the app"). */
const MAX_ITEMS = 20;

/**
 * Daily and weekly email digests. A scheduled job finds the users whose digest window has closed
 * (`digest_next_at`), gathers their unread entries of the digested categories that arrived in the
 * window and were not emailed on their own, and queues one email per user, cadence and window:
 * the digest row's unique key (user, cadence, window start) is inserted in the same transaction as
 * the mail job, so concurrent runs on several workers or nodes, and re-runs, send it once.
 */
export function createDigests(deps: DigestsDeps) {
  const { db, clock, events, mailer, logger, accounts, users, publicUrl, unsubscribeUrl } = deps;
  const graceMs = deps.graceMs ?? 60_000;

  /** Sends the digest of one window; true when this call queued the email. */
  async function sendDigest(userId: string, cadence: DigestCadence, window: Window, categories: Category[]): Promise<boolean> {
    const start = window.start.toISOString();
    const end = window.end.toISOString();
    // Reads outside the transaction (SQLite has one connection).
    const { rows, total } = await digestsRepo(db).unseen(userId, categories, start, end, MAX_ITEMS);
    if (total === 0) return false; // an empty window sends nothing
    let email: string;
    try {
      email = (await accounts.me(userId)).email;
    } catch (err) {
      if (err instanceof AppError && err.status === 404) return false; // no such account (deleted, or a test principal)
      throw err;
    }
    const items = rows.map((row) => {
      const view = toView(row);
      return { title: view.title, body: view.body, url: `${publicUrl}${view.link}` };
    });
    const unsubscribe = unsubscribeUrl(userId, cadence);
    const rendered = renderDigest(cadence, items, total, { inbox: `${publicUrl}/notifications`, preferences: `${publicUrl}/settings/notifications`, unsubscribe });
    const headers = { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
    return withTransaction(db, async (tx) => {
      const repo = digestsRepo(tx);
      const digest: DigestRow = { id: newId('dgs'), user_id: userId, cadence, window_start: start, window_end: end, item_count: total, mail_job_id: null, created_at: clock.now().toISOString() };
      // The unique key is the arbiter: a concurrent or repeated run of the same window stops here.
      if (!(await repo.claim(digest))) return false;
      const jobId = await mailer.send(tx, { to: email, ...rendered, headers, category: `notifications.digest.${cadence}` });
      await repo.setMailJob(digest.id, jobId);
      await events.append<DigestSentPayload>(tx, {
        type: NotificationsEvents.digestSent,
        scopes: [`user:${userId}`],
        payload: { userId, cadence, windowStart: start, windowEnd: end, count: total },
      });
      return true;
    });
  }

  /** Handles the windows of one due user that closed at or before `cutoff`, then moves their next digest time on. */
  async function handleUser(row: PreferenceRow, profileZone: string | null, cutoff: Date): Promise<number> {
    const p: Prefs = parsePrefs(row, profileZone);
    const due = Date.parse(row.digest_next_at!);
    let sent = 0;
    for (const cadence of ['daily', 'weekly'] as const) {
      const categories = digestCategories(p, cadence);
      if (!categories.length) continue;
      const window = closedWindow(cadence, p.digest, p.timeZone, cutoff);
      // Windows that closed before the one now due were handled already (or closed before the user chose this cadence).
      if (window.end.getTime() < due) continue;
      if (await sendDigest(row.user_id, cadence, window, categories)) sent++;
    }
    await digestsRepo(db).advance(row.user_id, Number(row.version), digestNextAt(p, cutoff));
    return sent;
  }

  return {
    /** The scheduled job: every user whose digest window closed; returns how many users were due and how many emails this run queued. */
    async runDue(): Promise<{ users: number; sent: number }> {
      const cutoff = new Date(clock.now().getTime() - graceMs);
      let after: [string, string] | undefined;
      let dueUsers = 0;
      let sent = 0;
      let failed = 0;
      for (;;) {
        const rows = await digestsRepo(db).due(cutoff.toISOString(), after, BATCH);
        const profiles = await users.lookup(rows.filter((r) => r.time_zone === null).map((r) => r.user_id));
        for (const row of rows) {
          dueUsers++;
          try {
            sent += await handleUser(row, profiles.get(row.user_id)?.timeZone ?? null, cutoff);
          } catch (err) {
            // One user's failure must not hold up the others; the job is retried and the rest is idempotent.
            failed++;
            logger.warn({ err, userId: row.user_id }, 'notification digest failed');
          }
        }
        if (rows.length < BATCH) break;
        const last = rows[rows.length - 1]!;
        after = [last.digest_next_at!, last.user_id];
      }
      if (failed) throw new Error(`${failed} of ${dueUsers} digests failed; retrying`);
      return { users: dueUsers, sent };
    },

    /** The profile time zone changed: digests that follow it (no zone of their own) close at the new zone's hours from the next window on. */
    async reschedule(userId: string): Promise<void> {
      const row = await channelsRepo(db).findPreferences(userId);
      if (!row || row.time_zone !== null || row.digest_next_at === null) return;
      // A window already due is left to the digest job, which reads the new zone when it moves on.
      if (Date.parse(row.digest_next_at) <= clock.now().getTime()) return;
      const profileZone = (await users.lookup([userId])).get(userId)?.timeZone ?? null;
      await digestsRepo(db).advance(userId, Number(row.version), digestNextAt(parsePrefs(row, profileZone), clock.now()));
    },

    /** The digests sent to a user, newest window first. */
    sentTo: (userId: string) => digestsRepo(db).sentTo(userId),

    async forgetUser(userId: string): Promise<void> {
      await withTransaction(db, (tx) => digestsRepo(tx).deleteUser(userId));
    },
  };
}

export type Digests = ReturnType<typeof createDigests>;

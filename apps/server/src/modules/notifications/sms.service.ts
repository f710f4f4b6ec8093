import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { JobContext, JobQueue } from '../../core/jobs/types.js';
import { SmsError, type SmsProvider } from '../../core/sms/sms-provider.js';
import { PermanentDeliveryError, type Channels } from './channels.service.js';
import type { Content } from './email-templates.js';
import { NotificationsErrors } from './notifications.errors.js';
import { channelsRepo } from './notifications.repo.js';
import type { SmsNumberView } from './notifications.schemas.js';
import type { SmsNumberRow } from './notifications.tables.js';
import { smsRepo } from './sms.repo.js';

export const SMS_JOB = 'notifications.sms';
export const SMS_CODE_JOB = 'notifications.sms-code';

/** A verification code works this long, for this many tries. */
export const CODE_TTL_MS = 10 * 60_000;
export const CODE_TRIES = 5;
/** Between two codes to one user. */
export const RESEND_COOLDOWN_MS = 60_000;
/** Codes per day to one user, and to one number whoever asks: the server must not be a way to spam phones. */
export const CODES_PER_DAY = 5;
const DAY_MS = 24 * 3600_000;

export interface SmsDeps {
  db: Db;
  clock: Clock;
  jobs: JobQueue;
  channels: Channels;
  logger: FastifyBaseLogger;
  /** Absent: SMS is not configured (numbers cannot be added, nothing is sent). */
  provider?: SmsProvider;
  /** Key the verification codes are derived with (from the secret store). */
  codeSecret: string;
  publicUrl: string;
}

/** `+33612345678` → `+33•••••••78`: enough to recognise one's own number, not to read it. */
export const maskPhone = (phone: string) => `${phone.slice(0, 3)}${'•'.repeat(Math.max(0, phone.length - 5))}${phone.slice(-2)}`;

const phoneHash = (phone: string) => createHash('sha256').update(phone).digest('base64url');

/** What an SMS notification says: plain text, short (the title and a link). */
export function smsBody(content: Content, publicUrl: string): string {
  // ASCII dots, not '…': one character outside the GSM alphabet makes the whole SMS UCS-2 (70 characters a part, not 160).
  const title = content.title.length > 100 ? `${content.title.slice(0, 97)}...` : content.title;
  return `${title}\n${publicUrl}${content.link}`;
}

const tooMany = (code: string, message: string, retryAfterMs: number) =>
  new AppError(429, code, message, { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } });

/**
 * The SMS channel: a user's number, verified by a code sent to it before anything else is, and
 * the delivery of notifications to it through the provider (retried with backoff by the job queue).
 */
export function createSms(deps: SmsDeps) {
  const { db, clock, jobs, channels, logger, provider, codeSecret, publicUrl } = deps;
  const iso = () => clock.now().toISOString();

  // The code is never stored, neither in the row nor in the job: it is derived from the row's
  // random nonce with a server key, so a copy of the database alone does not reveal it.
  const codeOf = (userId: string, phone: string, nonce: string) =>
    String(createHmac('sha256', codeSecret).update(`sms-code:${userId}:${phone}:${nonce}`).digest().readUInt32BE(0) % 1_000_000).padStart(6, '0');

  if (provider) channels.addChannel('sms', (tx, userIds) => smsRepo(tx).usersWithVerifiedPhone(userIds));

  function view(row: SmsNumberRow | undefined, now: Date): SmsNumberView {
    const pending = row?.pending_phone && row.code_expires_at && Date.parse(row.code_expires_at) > now.getTime() && row.code_attempts < CODE_TRIES;
    return {
      phone: row?.phone ? maskPhone(row.phone) : null,
      verifiedAt: row?.verified_at ?? null,
      pending: pending
        ? { phone: maskPhone(row.pending_phone!), expiresAt: row.code_expires_at!, resendAt: new Date(Date.parse(row.code_sent_at!) + RESEND_COOLDOWN_MS).toISOString() }
        : null,
    };
  }

  const disabled = () => new AppError(409, NotificationsErrors.NOTIFICATIONS_SMS_DISABLED, 'SMS is not configured on this server.');

  return {
    async number(userId: string): Promise<SmsNumberView> {
      return view(await smsRepo(db).find(userId), clock.now());
    },

    /** Sends a code to `phone`; the number is used once the code comes back. `sent` is false when it is already the verified number. */
    async requestCode(userId: string, phone: string): Promise<{ view: SmsNumberView; sent: boolean }> {
      if (!provider) throw disabled();
      const now = clock.now();
      return withTransaction(db, async (tx) => {
        const repo = smsRepo(tx);
        const row = await repo.find(userId);
        if (row?.phone === phone) return { view: view(row, now), sent: false };
        const sinceLast = row?.code_sent_at ? now.getTime() - Date.parse(row.code_sent_at) : Infinity;
        if (sinceLast < RESEND_COOLDOWN_MS) throw tooMany(NotificationsErrors.NOTIFICATIONS_SMS_RESEND_TOO_SOON, 'A code was sent a moment ago; wait before asking for another.', RESEND_COOLDOWN_MS - sinceLast);
        const since = new Date(now.getTime() - DAY_MS).toISOString();
        await repo.pruneCodesSent(userId, since);
        for (const { count, oldest } of await repo.codesSentSince(userId, phoneHash(phone), since)) {
          if (count >= CODES_PER_DAY) throw tooMany(NotificationsErrors.NOTIFICATIONS_SMS_TOO_MANY_CODES, `At most ${CODES_PER_DAY} codes a day go to one account or one number.`, Date.parse(oldest!) + DAY_MS - now.getTime());
        }
        const next: SmsNumberRow = {
          user_id: userId,
          phone: row?.phone ?? null,
          verified_at: row?.verified_at ?? null,
          pending_phone: phone,
          code_nonce: randomBytes(16).toString('base64url'),
          code_sent_at: now.toISOString(),
          code_expires_at: new Date(now.getTime() + CODE_TTL_MS).toISOString(),
          code_attempts: 0,
          updated_at: now.toISOString(),
        };
        await repo.save(next);
        await repo.recordCodeSent({ id: newId('smsc'), user_id: userId, phone_hash: phoneHash(phone), created_at: now.toISOString() });
        await jobs.enqueue(tx, SMS_CODE_JOB, { userId, nonce: next.code_nonce }, { uniqueKey: `${SMS_CODE_JOB}:${next.code_nonce}` });
        return { view: view(next, now), sent: true };
      });
    },

    /** Confirms the pending number with the code it received; it then replaces the verified one. */
    async verify(userId: string, code: string): Promise<SmsNumberView> {
      const now = clock.now();
      return withTransaction(db, async (tx) => {
        const repo = smsRepo(tx);
        const row = await repo.find(userId);
        if (!row?.pending_phone || !row.code_nonce) throw new AppError(409, NotificationsErrors.NOTIFICATIONS_SMS_NOT_PENDING, 'No number is waiting for a code; send one with PUT /notifications/sms first.');
        const expired = () => new AppError(422, NotificationsErrors.NOTIFICATIONS_SMS_CODE_EXPIRED, 'This code has expired or was tried too often; ask for a new one.', { errors: [{ path: '/body/code', message: 'expired' }] });
        if (Date.parse(row.code_expires_at!) <= now.getTime()) throw expired();
        if (!(await repo.takeTry(userId, row.code_nonce, CODE_TRIES, now.toISOString()))) throw expired();
        const expected = Buffer.from(codeOf(userId, row.pending_phone, row.code_nonce));
        if (code.length !== expected.length || !timingSafeEqual(expected, Buffer.from(code))) {
          // The try is used up even though the request fails: it is committed before the error.
          return { ok: false as const, left: CODE_TRIES - row.code_attempts - 1 };
        }
        const verified: SmsNumberRow = { ...row, phone: row.pending_phone, verified_at: now.toISOString(), pending_phone: null, code_nonce: null, code_expires_at: null, code_attempts: 0, updated_at: now.toISOString() };
        await repo.save(verified);
        return { ok: true as const, view: view(verified, now) };
      }).then((result) => {
        if (result.ok) return result.view;
        throw new AppError(422, NotificationsErrors.NOTIFICATIONS_SMS_CODE_INVALID, `Wrong code; ${result.left} ${result.left === 1 ? 'try' : 'tries'} left.`, { errors: [{ path: '/body/code', message: 'wrong code' }] });
      });
    },

    async remove(userId: string): Promise<void> {
      await smsRepo(db).remove(userId);
    },

    /** The job that sends a verification code (the code is derived again from the nonce; a stale job sends nothing). */
    async sendCode(job: JobContext<{ userId: string; nonce: string }>): Promise<void> {
      if (!provider) return;
      const { userId, nonce } = job.payload;
      const row = await smsRepo(db).find(userId);
      if (!row?.pending_phone || row.code_nonce !== nonce || Date.parse(row.code_expires_at!) <= clock.now().getTime()) return;
      const body = `Your Lyceum verification code is ${codeOf(userId, row.pending_phone, nonce)}. It expires in ${CODE_TTL_MS / 60_000} minutes.`;
      try {
        await provider.send(row.pending_phone, body);
      } catch (err) {
        if (err instanceof SmsError && !err.retryable) return void logger.warn({ userId, status: err.status, code: err.code }, 'SMS verification code refused by the provider');
        throw err;
      }
    },

    /** The job that sends one notification by SMS to the user's verified number. */
    async sendSms(job: JobContext<{ deliveryId: string }>): Promise<void> {
      await channels.runDelivery(
        job,
        async (delivery) => {
          if (!provider) throw new PermanentDeliveryError('sms-off', 'SMS is no longer configured.');
          // Accepted by the provider before a crash: sending again would show it twice.
          if ((await channelsRepo(db).sentTargets(delivery.id)).has('sms')) return;
          const phone = await smsRepo(db).verifiedPhone(delivery.user_id);
          if (!phone) throw new PermanentDeliveryError('no-number', 'The user has no verified number.');
          let id: string;
          try {
            ({ id } = await provider.send(phone, smsBody(JSON.parse(delivery.content) as Content, publicUrl)));
          } catch (err) {
            if (err instanceof SmsError && !err.retryable) throw new PermanentDeliveryError('provider-refused', err.message);
            throw err;
          }
          await channelsRepo(db).recordSend(delivery.id, 'sms', id, iso());
        },
        async () => {},
      );
    },

    async forgetUser(userId: string): Promise<void> {
      await withTransaction(db, (tx) => smsRepo(tx).deleteUser(userId));
    },
  };
}

export type Sms = ReturnType<typeof createSms>;

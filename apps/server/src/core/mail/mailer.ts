import type { FastifyBaseLogger } from 'fastify';
import nodemailer from 'nodemailer';
import SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Database, Db, Tx } from '../db/database.js';
import { newId } from '../ids.js';
import type { JobQueue } from '../jobs/types.js';

export interface MailMessage {
  /** One recipient per message: nobody sees another learner's address. */
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Extra headers, e.g. List-Unsubscribe (RFC 8058). */
  headers?: Record<string, string>;
  /** What kind of mail this is (`identity.password-reset`), kept in the log; never sent. */
  category?: string;
}

export interface OutboxMessage extends MailMessage {
  id: string;
  jobId: string;
  messageId: string;
  createdAt: string;
}

export interface Mailer {
  /** Enqueues the message in the caller's transaction; a worker sends it after commit. Returns the job id. */
  send(db: Db | Tx, message: MailMessage): Promise<string>;
  /** The development outbox, newest first: what would have been sent without SMTP_URL. */
  outbox(limit?: number): Promise<OutboxMessage[]>;
}

export interface MailerOptions {
  database: Database;
  jobs: JobQueue;
  logger: FastifyBaseLogger;
  smtpUrl?: string;
  /** The From header, e.g. `Lyceum <no-reply@learn.example.com>`; its domain names Message-IDs. */
  from: string;
}

export const SEND_MAIL_JOB = 'core.mail.send';

const OUTBOX = 'core_mail_outbox';
type Transport = 'smtp' | 'outbox';

// Each below the job's timeout, so that a hung server fails the attempt instead of outliving it.
const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 };
const SEND_JOB_TIMEOUT_MS = 2 * 60_000;

interface OutboxRow {
  id: string;
  job_id: string;
  transport: Transport;
  recipient: string;
  subject: string;
  text_body: string | null;
  html_body: string | null;
  headers: string;
  category: string | null;
  message_id: string;
  created_at: string;
}

const toOutboxMessage = (row: OutboxRow): OutboxMessage => ({
  id: row.id,
  jobId: row.job_id,
  to: row.recipient,
  subject: row.subject,
  text: row.text_body ?? '',
  html: row.html_body ?? undefined,
  headers: JSON.parse(row.headers) as Record<string, string>,
  category: row.category ?? undefined,
  messageId: row.message_id,
  createdAt: row.created_at,
});

function assertSendable(message: MailMessage): void {
  // Fail in the request that made the mistake, not eight retries later in a worker.
  if (!message.to?.includes('@')) throw new Error('Mail needs a recipient address in "to"');
  if (!message.subject) throw new Error('Mail needs a subject');
}

/** The domain of the From address, so Message-IDs look like the sender's own. */
const senderDomain = (from: string) => /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'lyceum.local';

/**
 * Outgoing mail. Sending always goes through the job queue, so a mail exists if and only if the
 * write that caused it committed, and an SMTP outage means retries, not lost mail. Without
 * SMTP_URL the development outbox stores each message and logs its subject and recipient (never
 * its body, which may hold a sign-in link).
 */
export function createMailer({ database, jobs, logger, smtpUrl, from }: MailerOptions): Mailer {
  const { db } = database;
  const smtp = smtpUrl ? nodemailer.createTransport(new SMTPTransport({ ...SMTP_TIMEOUTS, url: smtpUrl })) : undefined;
  const transport: Transport = smtp ? 'smtp' : 'outbox';
  const domain = senderDomain(from);

  const alreadyDelivered = async (jobId: string) =>
    (await db.selectFrom(OUTBOX).select('id').where('job_id', '=', jobId).executeTakeFirst()) !== undefined;

  /** Records the delivery under its job id; false when a concurrent run of the same job got there first. */
  async function recordDelivery(jobId: string, message: MailMessage, messageId: string): Promise<boolean> {
    const inserted = await db
      .insertInto(OUTBOX)
      .values({
        id: newId('mail'),
        job_id: jobId,
        transport,
        recipient: message.to,
        subject: message.subject,
        // Sent mail keeps its metadata only; the outbox keeps the body, since reading it is its purpose.
        text_body: smtp ? null : message.text,
        html_body: smtp ? null : (message.html ?? null),
        headers: JSON.stringify(message.headers ?? {}),
        category: message.category ?? null,
        message_id: messageId,
        created_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.column('job_id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  jobs.define(SEND_MAIL_JOB, {
    maxAttempts: 8,
    backoffMs: 5000,
    timeoutMs: SEND_JOB_TIMEOUT_MS,
    async handle({ id: jobId, payload }) {
      const message = payload as MailMessage;
      if (await alreadyDelivered(jobId)) return; // a retry after the delivery was recorded
      // Stable across retries: a receiving server can drop the duplicate if we crash between send and record.
      const messageId = `<${jobId}@${domain}>`;
      if (smtp) {
        await smtp.sendMail({ from, to: message.to, subject: message.subject, text: message.text, html: message.html, headers: message.headers, messageId });
      }
      const recorded = await recordDelivery(jobId, message, messageId);
      if (recorded && !smtp) {
        logger.info({ to: message.to, subject: message.subject, category: message.category }, 'mail stored in the development outbox (SMTP_URL not set)');
      }
    },
  });

  return {
    async send(target, message) {
      assertSendable(message);
      return jobs.enqueue(target, SEND_MAIL_JOB, message);
    },

    async outbox(limit = 50) {
      const rows = (await db
        .selectFrom(OUTBOX)
        .selectAll()
        .where('transport', '=', 'outbox')
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute()) as OutboxRow[];
      return rows.map(toOutboxMessage);
    },
  };
}

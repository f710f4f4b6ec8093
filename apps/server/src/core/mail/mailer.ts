import type { FastifyBaseLogger } from 'fastify';
import nodemailer from 'nodemailer';
import type { Database, Db, Tx } from '../db/database.js';
import { isDbError } from '../db/errors.js';
import { newId } from '../ids.js';
import type { JobQueue } from '../jobs/types.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Extra headers, e.g. List-Unsubscribe (RFC 8058). */
  headers?: Record<string, string>;
}

export interface OutboxMessage extends MailMessage {
  id: string;
  jobId: string;
  messageId: string;
  createdAt: string;
}

export interface Mailer {
  /** Enqueues the message in the caller's transaction; it is sent by a worker after commit. */
  send(db: Db | Tx, message: MailMessage): Promise<string>;
  /** The development outbox (newest first): what would have been sent without SMTP_URL. */
  outbox(limit?: number): Promise<OutboxMessage[]>;
}

export interface MailerOptions {
  database: Database;
  jobs: JobQueue;
  logger: FastifyBaseLogger;
  smtpUrl?: string;
  from: string;
}

export const SEND_MAIL_JOB = 'core.mail.send';

interface MailRow {
  id: string;
  job_id: string;
  recipient: string;
  subject: string;
  text_body: string | null;
  html_body: string | null;
  headers: string;
  message_id: string;
  created_at: string;
}

/**
 * Outgoing mail. Sending always goes through the job queue, so a mail exists if and only if the
 * write that caused it committed, and an SMTP outage means retries, not lost mail. Without
 * SMTP_URL the development outbox stores each message and logs its subject and recipient (never
 * its body, which may hold a sign-in link).
 */
export function createMailer({ database, jobs, logger, smtpUrl, from }: MailerOptions): Mailer {
  const { db } = database;
  const transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : undefined;
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'lyceum.local';

  jobs.define(SEND_MAIL_JOB, {
    maxAttempts: 8,
    backoffMs: 5000,
    async handle({ id: jobId, payload }) {
      const message = payload as MailMessage;
      const already = await db.selectFrom('core_mail').select('id').where('job_id', '=', jobId).executeTakeFirst();
      if (already) return; // a retry after the send was recorded
      // A stable Message-ID lets receiving servers discard a duplicate if we crash between send and record.
      const messageId = `<${jobId}@${domain}>`;
      if (transport) {
        await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text, html: message.html, headers: message.headers, messageId });
      } else {
        logger.info({ to: message.to, subject: message.subject }, 'mail stored in the development outbox (SMTP_URL not set)');
      }
      try {
        await db
          .insertInto('core_mail')
          .values({
            id: newId('mail'),
            job_id: jobId,
            transport: transport ? 'smtp' : 'outbox',
            recipient: message.to,
            subject: message.subject,
            // Sent mail keeps its metadata only; the outbox keeps the body, since reading it is its purpose.
            text_body: transport ? null : message.text,
            html_body: transport ? null : (message.html ?? null),
            headers: JSON.stringify(message.headers ?? {}),
            message_id: messageId,
            created_at: new Date().toISOString(),
          })
          .execute();
      } catch (err) {
        if (!isDbError(err, 'unique')) throw err;
      }
    },
  });

  return {
    send: (target, message) => jobs.enqueue(target, SEND_MAIL_JOB, message),
    async outbox(limit = 50) {
      const rows = (await db.selectFrom('core_mail').selectAll().where('transport', '=', 'outbox').orderBy('created_at', 'desc').limit(limit).execute()) as MailRow[];
      return rows.map((r) => ({
        id: r.id,
        jobId: r.job_id,
        to: r.recipient,
        subject: r.subject,
        text: r.text_body ?? '',
        html: r.html_body ?? undefined,
        headers: JSON.parse(r.headers) as Record<string, string>,
        messageId: r.message_id,
        createdAt: r.created_at,
      }));
    },
  };
}

import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachDialect, openTestDatabase } from '../../../test/support/databases.js';
import { until } from '../../../test/support/until.js';
import type { Database } from '../db/database.js';
import { withTransaction } from '../db/transaction.js';
import { createJobQueue } from '../jobs/job-queue.js';
import type { JobQueue } from '../jobs/types.js';
import { createMailer, SEND_MAIL_JOB, type Mailer } from './mailer.js';

interface Received {
  from: string;
  to: string[];
  data: string;
}

/** A real SMTP server on a random local port that keeps what it receives. */
async function startSmtpServer(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
      stream.on('end', () => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describeEachDialect('mail', (dialect) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: Database;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  const queues: JobQueue[] = [];
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => (logLines.push(chunk.toString()), done()) }));

  const setup = (smtpUrl?: string): { jobs: JobQueue; mailer: Mailer } => {
    const jobs = createJobQueue({ database, clock: { now: () => new Date() }, logger, concurrency: 2, leaseMs: 30_000, pollMs: 10 });
    queues.push(jobs);
    const mailer = createMailer({ database, jobs, logger, smtpUrl, from: 'Lyceum <no-reply@lyceum.test>' });
    return { jobs, mailer };
  };

  beforeAll(async () => {
    opened = await openTestDatabase(dialect);
    database = opened.database;
    smtp = await startSmtpServer();
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.stop(1000)));
  });
  afterAll(async () => {
    await smtp.close();
    await opened.close();
  });

  it('sends through the job queue to a real SMTP server, with its headers', async () => {
    const { jobs, mailer } = setup(smtp.url);
    const jobId = await withTransaction(database.db, (tx) =>
      mailer.send(tx, {
        to: 'ada@example.com',
        subject: 'Your course starts tomorrow',
        text: 'See you in class.',
        html: '<p>See you in class.</p>',
        headers: { 'List-Unsubscribe': '<https://lyceum.test/u/abc>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        category: 'learning.reminder',
      }),
    );
    expect(smtp.received).toHaveLength(0); // nothing leaves before a worker runs the job
    jobs.start();
    await until(() => smtp.received.length === 1);
    const [mail] = smtp.received;
    expect(mail!.from).toBe('no-reply@lyceum.test');
    expect(mail!.to).toEqual(['ada@example.com']);
    expect(mail!.data).toMatch(/^Subject: Your course starts tomorrow\r$/m);
    expect(mail!.data).toMatch(/^To: ada@example\.com\r$/m);
    expect(mail!.data).toMatch(/^List-Unsubscribe: <https:\/\/lyceum\.test\/u\/abc>\r$/m);
    expect(mail!.data).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    expect(mail!.data).toMatch(new RegExp(`^Message-ID: <${jobId}@lyceum\\.test>\r$`, 'm'));
    expect(mail!.data).toContain('See you in class.');
    expect(mail!.data).not.toContain('learning.reminder'); // the category stays with us

    // Recorded without its body; the development outbox lists only outbox mail.
    await until(async () => (await jobs.get(jobId))?.status === 'succeeded');
    const record = await database.db.selectFrom('core_mail_outbox').selectAll().where('job_id', '=', jobId).executeTakeFirstOrThrow();
    expect(record).toMatchObject({ transport: 'smtp', recipient: 'ada@example.com', text_body: null, category: 'learning.reminder', message_id: `<${jobId}@lyceum.test>` });
    expect((await mailer.outbox()).map((m) => m.jobId)).not.toContain(jobId);
  });

  it('a mail job run again after a recorded send does not send twice', async () => {
    const { jobs, mailer } = setup(smtp.url);
    const before = smtp.received.length;
    const jobId = await mailer.send(database.db, { to: 'bob@example.com', subject: 'Once', text: 'only once' });
    jobs.start();
    await until(async () => (await jobs.get(jobId))?.status === 'succeeded');
    // A worker that crashed after sending and recording, before marking the job done: it runs again.
    await database.db.updateTable('core_jobs').set({ status: 'queued', run_at: new Date(0).toISOString() }).where('id', '=', jobId).execute();
    await until(async () => (await jobs.get(jobId))?.status === 'succeeded' && (await jobs.get(jobId))?.attempts === 2);
    expect(smtp.received.length - before).toBe(1);
  });

  it('without SMTP, stores the mail in the development outbox and logs one line without the body', async () => {
    const { jobs, mailer } = setup(undefined);
    const message = { to: 'cy@example.com', subject: 'Reset your password', text: 'Use this link: https://lyceum.test/reset?token=SECRET-TOKEN', category: 'identity.password-reset' };
    const jobId = await mailer.send(database.db, message);
    jobs.start();
    await until(async () => (await jobs.get(jobId))?.status === 'succeeded');
    const [latest] = await mailer.outbox(1);
    expect(latest).toMatchObject({ ...message, jobId, headers: {}, messageId: `<${jobId}@lyceum.test>` });

    // Run again (a retry after a crash): still one message, one log line.
    await database.db.updateTable('core_jobs').set({ status: 'queued', run_at: new Date(0).toISOString() }).where('id', '=', jobId).execute();
    await until(async () => (await jobs.get(jobId))?.status === 'succeeded' && (await jobs.get(jobId))?.attempts === 2);
    expect((await mailer.outbox()).filter((m) => m.jobId === jobId)).toHaveLength(1);
    const lines = logLines.filter((line) => line.includes('Reset your password'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('cy@example.com');
    expect(logLines.join('')).not.toContain('SECRET-TOKEN');
  });

  it('refuses a message without a recipient when it is sent, not in a worker', async () => {
    const { mailer } = setup(undefined);
    await expect(mailer.send(database.db, { to: '', subject: 'Nobody', text: '…' })).rejects.toThrow(/recipient/);
  });

  it('is registered as a job that retries when SMTP is down', async () => {
    const { jobs, mailer } = setup('smtp://127.0.0.1:1');
    const jobId = await mailer.send(database.db, { to: 'dan@example.com', subject: 'Unreachable', text: '…' });
    jobs.start();
    await until(async () => (await jobs.get(jobId))?.attempts === 1 && (await jobs.get(jobId))?.status === 'queued');
    expect(await jobs.get(jobId)).toMatchObject({ name: SEND_MAIL_JOB, status: 'queued', maxAttempts: 8, lastError: expect.stringMatching(/ECONNREFUSED|connect/) });
  });
});

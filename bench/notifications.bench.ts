/**
 * Notifications under load (issue #7): a course announcement to 10,000 enrolled students — until
 * every inbox entry is stored and until every connected student has `notification:new` — and email
 * throughput to a local SMTP server (the `smtp-server` package the tests use).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { ask, percentile, scaled, start, stop, scaledVerdict, type Section } from './support.js';

interface NotificationsInfo {
  seedSeconds: number;
  courseId: string;
  teacherToken: string;
  studentTokens: string[];
  jobConcurrency: number;
}

const BENCH_DOMAIN = 'throughput.bench.example';

/** An SMTP server that accepts everything and counts the messages addressed to the bench's domain. */
async function smtpSink() {
  let received = 0;
  let lastAt = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        if (session.envelope.rcptTo.some((r) => r.address.endsWith(`@${BENCH_DOMAIN}`))) {
          received++;
          lastAt = Date.now();
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received: () => received, lastAt: () => lastAt, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function runOn(database: 'SQLite' | 'PostgreSQL', clients: Awaited<ReturnType<typeof start>>) {
  const smtp = await smtpSink();
  const server = await start('notifications-server.ts', { BENCH_SMTP_URL: smtp.url, ...(database === 'PostgreSQL' ? { BENCH_POSTGRES: '1' } : {}) });
  const info = server.info as unknown as NotificationsInfo;
  const students = info.studentTokens.length;
  process.stdout.write(`notifications on ${database}: seeded in ${info.seedSeconds.toFixed(0)} s\n`);
  try {
    // Email first, before the announcement's own emails (held 2 minutes by design) compete for the workers.
    const mails = scaled(5_000, 200);
    const queued = await ask<{ at: number }>(server.child, 'queueMail', { count: mails, domain: BENCH_DOMAIN });
    for (let waited = 0; smtp.received() < mails && waited < 600_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    const mailSeconds = (smtp.lastAt() - queued.at) / 1000;
    process.stdout.write(`${database}: ${smtp.received()} of ${mails} emails in ${mailSeconds.toFixed(1)} s\n`);

    const url = `http://127.0.0.1:${server.port}`;
    const connected = await ask<{ connected: number }>(clients.child, 'connect', { url, clients: info.studentTokens.map((token) => ({ token })) });
    await ask(clients.child, 'listen', { event: 'notification:new' });
    const cpuBefore = await ask<{ user: number; system: number }>(server.child, 'cpuUsage');
    const posted = Date.now();
    const res = await fetch(`${url}/api/v1/courses/${info.courseId}/announcements`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.teacherToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Exam on Friday', body: 'Bring a compass and a calculator.' }),
    });
    if (res.status !== 201) throw new Error(`announcement answered ${res.status}: ${await res.text()}`);
    const answered = Date.now();
    const inbox = await ask<{ stored: number; at: number }>(server.child, 'awaitInbox', { expected: students, timeoutMs: 600_000 });
    const live = await ask<{ arrivals: number[] }>(clients.child, 'collect', { expected: connected.connected, timeoutMs: 600_000 });
    const cpuAfter = await ask<{ user: number; system: number }>(server.child, 'cpuUsage');
    await ask(clients.child, 'disconnect');
    const arrivals = live.arrivals.map((t) => t - posted);
    const result = {
      database,
      students,
      connected: connected.connected,
      answerMs: answered - posted,
      stored: inbox.stored,
      inboxSeconds: (inbox.at - posted) / 1000,
      received: arrivals.length,
      liveP50: percentile(arrivals, 50) / 1000,
      liveAll: Math.max(...arrivals) / 1000,
      // The server's own CPU time from the post until every live delivery: unlike wall-clock times, barely moved by other load.
      serverCpuSeconds: (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1e6,
      mails,
      mailsReceived: smtp.received(),
      mailSeconds,
      jobConcurrency: info.jobConcurrency,
    };
    process.stdout.write(`${database}: inbox ${inbox.stored}/${students} in ${result.inboxSeconds.toFixed(1)} s; live ${arrivals.length}/${connected.connected}, all by ${result.liveAll.toFixed(1)} s\n`);
    return result;
  } finally {
    await stop(server);
    await smtp.close();
  }
}

export async function notificationsSection(): Promise<Section> {
  const clients = await start('realtime-clients.ts');
  try {
    const runs = [await runOn('SQLite', clients)];
    if (process.env.BENCH_DATABASE_URL) runs.push(await runOn('PostgreSQL', clients));
    const r = runs[0]!;
    return {
      title: 'Notifications',
      body: `One course with ${r.students.toLocaleString('en')} actively enrolled students (seeded in bulk), each connected over Socket.io from a separate load
process; its teacher posts one announcement (\`POST /courses/{id}/announcements\`). Email goes to a local \`smtp-server\`
through core's mail jobs (${r.jobConcurrency} workers, the default \`JOB_CONCURRENCY\`).

| | ${runs.map((x) => x.database).join(' | ')} |
|---|${runs.map(() => '---:').join('|')}|
| announcement answered (201), ms | ${runs.map((x) => x.answerMs).join(' | ')} |
| every inbox entry stored (${r.students.toLocaleString('en')}), s | ${runs.map((x) => `${x.inboxSeconds.toFixed(1)}${x.stored < x.students ? ` (only ${x.stored})` : ''}`).join(' | ')} |
| students connected live | ${runs.map((x) => x.connected.toLocaleString('en')).join(' | ')} |
| \`notification:new\` received: half of them / all of them, s | ${runs.map((x) => `${x.liveP50.toFixed(1)} / ${x.liveAll.toFixed(1)}${x.received < x.connected ? ` (only ${x.received})` : ''}`).join(' | ')} |
| server CPU time from the post until every student has it, s | ${runs.map((x) => x.serverCpuSeconds.toFixed(1)).join(' | ')} |
| emails delivered to SMTP (${r.mails.toLocaleString('en')} queued at once), per second | ${runs.map((x) => `${Math.round(x.mailsReceived / x.mailSeconds)}${x.mailsReceived < x.mails ? ` (only ${x.mailsReceived})` : ''}`).join(' | ')} |

Times count from the moment the announcement was posted. The inbox entries are stored by \`notifications.announcement.batch\`
jobs of 500 members, each one transaction of a few multi-row statements; each entry then goes live as its own event. The
server's CPU time (\`process.cpuUsage\`) covers storing, the log's dispatch and the Socket.io sends. The announcement's emails wait 2 minutes by design
(\`emailDelayMs\`, so that an entry read in the app is not emailed) and are not part of the email figure, which is
core's mail job (one SMTP message per job) with ${r.mails.toLocaleString('en')} messages queued in one go.

- ${r.database}: every one of ${r.students.toLocaleString('en')} inbox entries stored: **${r.inboxSeconds.toFixed(1)} s** — ${r.stored === r.students ? 'all stored' : `NOT all stored (${r.stored})`}
- ${r.database}: every connected student (${r.connected.toLocaleString('en')}) has \`notification:new\` (all delivered): **${r.liveAll.toFixed(1)} s** — ${scaledVerdict(r.received === r.connected)}
- ${r.database}: email throughput: **${Math.round(r.mailsReceived / r.mailSeconds)} messages/s** to a local SMTP server`,
    };
  } finally {
    await stop(clients);
  }
}

import { withTransaction } from '../../src/core/db/transaction.js';
import type { EventInput } from '../../src/core/events/types.js';
import type { NotificationsModule } from '../../src/modules/notifications/index.js';
import type { TestAppOptions } from './app.js';
import { identityApp, manualClock } from './identity.js';
import { until } from './until.js';
import { createWidgetsModule } from './widgets/widgets.module.js';

/**
 * A test app with notifications, its background (event dispatch, job workers) running, a manual
 * clock, and test credentials: `Authorization: Bearer test:<userId>` (see widgets.module.ts).
 */
export async function notificationsApp(options: TestAppOptions = {}) {
  const clock = (options.clock as ReturnType<typeof manualClock> | undefined) ?? manualClock(Date.parse('2026-11-22T10:00:00.000Z'));
  const t = await identityApp({ background: true, ...options, clock, extraModules: [createWidgetsModule, ...(options.extraModules ?? [])] });
  const notifications = t.modules.find((m) => m.name === 'notifications') as NotificationsModule;

  /** Appends an event as another module would: in a transaction, through the event log. */
  const emit = <P>(event: EventInput<P>) => withTransaction(t.core.database.db, (tx) => t.core.events.append(tx, event));
  const as = (userId: string) => ({ authorization: `Bearer test:${userId}` });
  const inbox = async (userId: string, query = '') => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/notifications${query}`, headers: as(userId) });
    if (res.statusCode !== 200) throw new Error(`GET /notifications: ${res.statusCode} ${res.body}`);
    return res.json() as { items: Array<Record<string, any>>; nextCursor: string | null };
  };
  /** Waits until no ingestion or delivery job is queued or running. */
  const settled = () =>
    until(async () => {
      const [queued, running] = await Promise.all([t.core.jobs.list({ status: 'queued', limit: 100 }), t.core.jobs.list({ status: 'running', limit: 100 })]);
      const due = (j: { runAt: string }) => Date.parse(j.runAt) <= clock.now().getTime();
      return ![...queued.filter(due), ...running].some((j) => j.name.startsWith('notifications.') || j.name === 'core.mail.send');
    });
  return Object.assign(t, { notifications, emit, as, inbox, settled });
}

export type NotificationsTestApp = Awaited<ReturnType<typeof notificationsApp>>;

let seq = 0;
/** A fresh test user id (test principals need not exist in identity). */
export const userId = (name = 'u') => `usr_${name}${process.pid}x${++seq}`;

export interface ReceivedMail {
  to: string[];
  data: string;
}

/** A real SMTP server on a random local port that keeps what it receives (headers and bodies). */
export async function startSmtpServer(): Promise<{ url: string; received: ReceivedMail[]; close(): Promise<void> }> {
  const { SMTPServer } = await import('smtp-server');
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Unfolds a raw message's headers (RFC 5322 folding) so that a test can read one whole. */
export function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/**
 * A real push service on a local port, standing in for FCM / Mozilla autopush: each subscription
 * is a browser-side P-256 key pair and auth secret, and every message received is decrypted as a
 * browser would (RFC 8291 aes128gcm, with node:crypto ECDH + HKDF).
 */
export async function startPushService() {
  const { createServer } = await import('node:http');
  const { createECDH, createDecipheriv, hkdfSync, randomBytes } = await import('node:crypto');
  const received: Array<{ path: string; headers: Record<string, string | string[] | undefined>; payload: any }> = [];
  const devices = new Map<string, { ecdh: ReturnType<typeof createECDH>; auth: Buffer; status: number }>();

  function decrypt(path: string, body: Buffer): string {
    const device = devices.get(path)!;
    const salt = body.subarray(0, 16);
    const idLength = body[20]!;
    const serverPublic = body.subarray(21, 21 + idLength);
    const ciphertext = body.subarray(21 + idLength);
    const shared = device.ecdh.computeSecret(serverPublic);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), device.ecdh.getPublicKey(), serverPublic]);
    const ikm = Buffer.from(hkdfSync('sha256', shared, device.auth, keyInfo, 32));
    const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
    const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
    const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
    let end = padded.length - 1;
    while (end > 0 && padded[end] === 0) end--;
    if (padded[end] !== 2) throw new Error('bad padding delimiter');
    return padded.subarray(0, end).toString('utf8');
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const device = devices.get(req.url ?? '');
      if (!device || device.status !== 201) {
        res.statusCode = device?.status ?? 404;
        return res.end();
      }
      try {
        received.push({ path: req.url!, headers: req.headers, payload: JSON.parse(decrypt(req.url!, Buffer.concat(chunks))) });
        res.statusCode = 201;
      } catch {
        res.statusCode = 400;
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  let n = 0;
  return {
    received,
    /** A new browser subscription, as `PushSubscription.toJSON()` gives it. */
    device() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const path = `/push/${++n}`;
      devices.set(path, { ecdh, auth, status: 201 });
      return { endpoint: `http://127.0.0.1:${port}${path}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') }, path };
    },
    /** Makes the push service answer `status` for this device from now on (410: unsubscribed). */
    answer(path: string, status: number) {
      devices.get(path)!.status = status;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ReceivedSms {
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  sid: string;
}

/**
 * A real HTTP server speaking the Twilio Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`):
 * it checks HTTP Basic auth and the form fields, answers 201 with a `sid`, and Twilio's JSON errors
 * (`{ code, message, status }`). `answerNext(429, 400, …)` scripts the next answers, to prove retries.
 */
export async function startSmsService(credentials: { accountSid: string; authToken: string }) {
  const { createServer } = await import('node:http');
  const { randomBytes } = await import('node:crypto');
  const received: ReceivedSms[] = [];
  const script: number[] = [];
  let requests = 0;
  const expectedAuth = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      const answer = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const error = (status: number, code: number, message: string) => answer(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
      if (req.method !== 'POST' || req.url !== `/2010-04-01/Accounts/${credentials.accountSid}/Messages.json`) return error(404, 20404, 'The requested resource was not found');
      if (req.headers.authorization !== expectedAuth) return error(401, 20003, 'Authenticate');
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return error(400, 21600, 'Expected a form');
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const [to, from, service, body] = [form.get('To'), form.get('From'), form.get('MessagingServiceSid'), form.get('Body')];
      if (!to || !/^\+[1-9][0-9]{6,14}$/.test(to)) return error(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
      if (!from && !service) return error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message");
      if (!body) return error(400, 21602, 'Message body is required.');
      const scripted = script.shift();
      if (scripted === 429) return error(429, 20429, 'Too Many Requests');
      if (scripted !== undefined) return error(scripted, 21610, 'Attempt to send to unsubscribed recipient');
      const sid = `SM${randomBytes(16).toString('hex')}`;
      received.push({ to, from, messagingServiceSid: service, body, sid });
      answer(201, { sid, account_sid: credentials.accountSid, to, from, body, status: 'queued', num_segments: '1', date_created: new Date().toUTCString() });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    /** Every request that reached the server, accepted or not. */
    requests: () => requests,
    /** The next requests (with valid auth and fields) are answered with these statuses, then 201 again. */
    answerNext: (...statuses: number[]) => void script.push(...statuses),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

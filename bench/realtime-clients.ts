// The realtime load generator, in a process of its own: holds many socket.io-client connections
// (one WebSocket each) and runs the measurements `realtime.bench.ts` asks for over IPC.
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { answer, rssMiB } from './support.js';

interface Client {
  token?: string;
  rooms?: string[];
}
interface ChatEvent {
  payload: { clientMessageId?: string };
}

let sockets: Socket[] = [];
/** Where every socket's `chat:message` goes; each measurement installs its own. */
let deliver: (index: number, event: ChatEvent) => void = () => {};
let arrivals: number[] = [];

function connectOne(url: string, client: Client, index: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { path: '/socket.io', transports: ['websocket'], forceNew: true, reconnection: false, timeout: 60_000, auth: { ...client } });
    socket.on('chat:message', (event: ChatEvent) => deliver(index, event));
    socket.once('realtime:ready', () => resolve(socket));
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      socket.close();
      reject(new Error(err.data?.code ?? err.message));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

answer({
  /** Connects the clients, 200 handshakes at a time; a refused one is counted, not retried. */
  async connect(args) {
    const { url, clients } = args as { url: string; clients: Client[] };
    for (const s of sockets) s.close();
    sockets = [];
    const errors: Record<string, number> = {};
    const started = performance.now();
    for (let i = 0; i < clients.length; i += 200) {
      const settled = await Promise.allSettled(clients.slice(i, i + 200).map((c, k) => connectOne(url, c, i + k)));
      for (const outcome of settled) {
        if (outcome.status === 'fulfilled') sockets.push(outcome.value);
        else errors[outcome.reason.message] = (errors[outcome.reason.message] ?? 0) + 1;
      }
    }
    if (sockets.length !== clients.length) throw new Error(`${clients.length - sockets.length} connections refused: ${JSON.stringify(errors)}`);
    return { connected: sockets.length, seconds: (performance.now() - started) / 1000, clientRss: rssMiB(process.pid) };
  },

  /**
   * Sends `messages` messages, one after the other, from one socket to a conversation and times
   * each until every other listed socket has it. Sends are spaced so as to stay under chat's limit
   * of 30 messages per user per 10 s.
   */
  async fanout(args) {
    const { conversationId, sender, receivers, messages, spacingMs } = args as { conversationId: string; sender: number; receivers: number; messages: number; spacingMs: number };
    const all: number[] = [];
    const each: number[] = [];
    const acks: number[] = [];
    const errors: Record<string, number> = {};
    let incomplete = 0;
    for (let m = 0; m < messages; m++) {
      const clientMessageId = randomUUID();
      const t0 = performance.now();
      let left = receivers;
      const everyone = new Promise<void>((resolve) => {
        deliver = (index, event) => {
          if (index === sender || event.payload.clientMessageId !== clientMessageId) return;
          each.push(performance.now() - t0);
          if (--left === 0) resolve();
        };
      });
      const ack = (await sockets[sender]!.timeout(30_000).emitWithAck('chat:send', { conversationId, body: `fan-out ${m}`, clientMessageId }).catch(() => ({ ok: false, error: { code: 'TIMEOUT' } }))) as { ok: boolean; error?: { code: string } };
      if (ack.ok) {
        acks.push(performance.now() - t0);
        const done = await Promise.race([everyone.then(() => true), sleep(30_000).then(() => false)]);
        if (done) all.push(performance.now() - t0);
        else incomplete++;
      } else errors[ack.error?.code ?? 'unknown'] = (errors[ack.error?.code ?? 'unknown'] ?? 0) + 1;
      await sleep(Math.max(0, spacingMs - (performance.now() - t0)));
    }
    deliver = () => {};
    return { all, each, acks, incomplete, errors };
  },

  /**
   * Every listed socket sends to its partner, one message at a time (the next once the previous is
   * acknowledged), at most `perSecond` each, for `seconds`; then waits for the deliveries to drain.
   */
  async throughput(args) {
    const { senders, seconds, perSecond } = args as { senders: Array<{ index: number; partner: number; conversationId: string }>; seconds: number; perSecond: number };
    const partnerOf = new Map(senders.map((s) => [s.index, s.partner]));
    const prefix = `tp-${randomUUID()}-`;
    let acked = 0;
    let delivered = 0;
    let deliveredInWindow = 0;
    const errors: Record<string, number> = {};
    const ackTimes: number[] = [];
    const started = performance.now();
    const end = started + seconds * 1000;
    deliver = (index, event) => {
      const id = event.payload.clientMessageId;
      if (!id?.startsWith(prefix) || Number(id.slice(prefix.length).split(':')[0]) !== partnerOf.get(index)) return;
      delivered++;
      if (performance.now() <= end) deliveredInWindow++;
    };
    const interval = 1000 / perSecond;
    await Promise.all(
      senders.map(async ({ index, conversationId }, n) => {
        await sleep((n / senders.length) * interval); // spread the first sends over one interval
        for (let m = 0; performance.now() < end; m++) {
          const t0 = performance.now();
          try {
            const ack = (await sockets[index]!.timeout(30_000).emitWithAck('chat:send', { conversationId, body: `message ${m}`, clientMessageId: `${prefix}${index}:${m}` })) as { ok: boolean; error?: { code: string } };
            if (ack.ok) {
              acked++;
              ackTimes.push(performance.now() - t0);
            } else errors[ack.error?.code ?? 'unknown'] = (errors[ack.error?.code ?? 'unknown'] ?? 0) + 1;
          } catch {
            errors.TIMEOUT = (errors.TIMEOUT ?? 0) + 1;
          }
          await sleep(Math.max(0, interval - (performance.now() - t0)));
        }
      }),
    );
    const sendingSeconds = (performance.now() - started) / 1000;
    for (let waited = 0; delivered < acked && waited < 10_000; waited += 50) await sleep(50);
    deliver = () => {};
    return { acked, delivered, deliveredInWindow, sendingSeconds, drainSeconds: (performance.now() - started) / 1000, errors, ackTimes };
  },

  /** From now on, notes when each socket first receives an event of this name (wall-clock ms). */
  async listen(args) {
    const { event } = args as { event: string };
    arrivals = [];
    for (const s of sockets) {
      s.removeAllListeners(event);
      s.once(event, () => arrivals.push(Date.now()));
    }
    return {};
  },

  /** Waits until `expected` sockets have received the event `listen` named (or the timeout); returns when. */
  async collect(args) {
    const { expected, timeoutMs } = args as { expected: number; timeoutMs: number };
    for (let waited = 0; arrivals.length < expected && waited < timeoutMs; waited += 20) await sleep(20);
    return { arrivals };
  },

  async disconnect() {
    for (const s of sockets) s.close();
    sockets = [];
    return {};
  },
});
process.send?.({ port: 0 });

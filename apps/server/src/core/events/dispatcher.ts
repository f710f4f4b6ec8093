import type { FastifyBaseLogger } from 'fastify';
import type { EventSubscriber, StoredEvent } from './types.js';

export interface DispatcherOptions {
  /** The next committed events after `cursor`, in seq order, at most `pageSize` of them. */
  readPage: (cursor: number) => Promise<StoredEvent[]>;
  pageSize: number;
  logger: FastifyBaseLogger;
  /** Safety-net poll for wake-ups that never came (a NOTIFY lost while reconnecting). */
  pollMs: number;
  /** Cross-node wake-ups (PostgreSQL LISTEN); absent on SQLite, where every writer is local. */
  listen?: (onNotify: () => void) => Promise<() => Promise<void>>;
  /** How many locally committed events `offer` may hold before it drops them all and reads instead. */
  maxHeld?: number;
}

export interface Dispatcher {
  subscribe(subscriber: EventSubscriber): () => void;
  /** Asks for a dispatch pass that reads the log; cheap and safe to call from anywhere, any number of times. */
  wake(): void;
  /**
   * Hands over events this node has just committed, in seq order, and asks for a pass. The pass
   * delivers them from memory when they are the very next seqs after its cursor, and reads the log
   * otherwise.
   */
  offer(events: readonly StoredEvent[]): void;
  /** Starts tailing after `cursor`. */
  start(cursor: number): Promise<void>;
  /** Stops tailing once the event being delivered is done, and closes the listener. */
  stop(): Promise<void>;
}

const matchesType = (subscriber: EventSubscriber, type: string): boolean =>
  !subscriber.types || subscriber.types.some((t) => (t.endsWith('*') ? type.startsWith(t.slice(0, -1)) : t === type));

/**
 * Tails the log for one node: a single loop reads pages after its cursor and hands each event to
 * every matching subscriber, one event at a time, so subscribers see seq order and never overlap.
 */
export function createDispatcher({ readPage, pageSize, logger, pollMs, listen, maxHeld = 10 * pageSize }: DispatcherOptions): Dispatcher {
  const subscribers = new Set<EventSubscriber>();
  let cursor = 0;
  let stopped = true;
  let passRequested = false;
  /** Set by a wake-up from outside (NOTIFY, poll, a dropped offer): the pass must read the log. */
  let readRequested = false;
  /** Offered events not yet delivered. Offers come in commit order, which is seq order; one that came late only costs a read. */
  let held: StoredEvent[] = [];
  let loop: Promise<void> | undefined;
  let poll: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;

  async function deliver(event: StoredEvent): Promise<void> {
    for (const subscriber of subscribers) {
      if (!matchesType(subscriber, event.type)) continue;
      try {
        await subscriber.handle(event);
      } catch (err) {
        // One broken reaction must not starve the others, nor stall the log for this node.
        logger.error({ err, seq: event.seq, type: event.type, subscriber: subscriber.name }, 'event subscriber failed');
      }
    }
  }

  async function deliverAll(events: readonly StoredEvent[]): Promise<boolean> {
    for (const event of events) {
      if (stopped) return false;
      await deliver(event);
      cursor = event.seq;
    }
    return true;
  }

  /**
   * Delivers held events while each is exactly cursor + 1, and tells whether the log must be read:
   * when one is missing (another node or process wrote it, or on PostgreSQL a rolled-back append used
   * up a seq) the log decides. An event at cursor + 1 that this node holds has committed and nothing
   * can come before it, so delivering it from memory skips nothing, whatever order offers arrive in;
   * held events at or below the cursor were delivered by a read already and are dropped.
   */
  async function deliverHeld(): Promise<boolean> {
    while (held.length) {
      const next = held[0]!;
      if (next.seq > cursor + 1) return true;
      held.shift();
      if (next.seq === cursor + 1 && !(await deliverAll([next]))) return false;
    }
    return false;
  }

  async function readLog(): Promise<void> {
    for (;;) {
      const events = await readPage(cursor);
      if (!(await deliverAll(events)) || events.length < pageSize) return;
    }
  }

  async function dispatchPass(): Promise<void> {
    const mustRead = readRequested;
    readRequested = false;
    if ((await deliverHeld()) || mustRead) {
      await readLog();
      await deliverHeld(); // what was offered while reading, if it follows on
    }
  }

  async function runLoop(): Promise<void> {
    try {
      while (passRequested && !stopped) {
        passRequested = false;
        await dispatchPass();
      }
    } catch (err) {
      // The cursor did not move past undelivered events; the next wake-up or poll retries.
      logger.warn({ err, cursor }, 'event dispatch failed; retrying at the next wake-up');
    } finally {
      // Runs synchronously after the last check of passRequested, so no wake-up falls in between.
      loop = undefined;
    }
  }

  function requestPass(): void {
    passRequested = true;
    loop ??= runLoop();
  }

  function wake(): void {
    if (stopped) return;
    readRequested = true;
    requestPass();
  }

  function offer(events: readonly StoredEvent[]): void {
    if (stopped) return;
    if (held.length + events.length > maxHeld) {
      // Subscribers lag behind: stop holding, and let the log catch them up a page at a time.
      held = [];
      wake();
      return;
    }
    held.push(...events);
    requestPass();
  }

  async function start(from: number): Promise<void> {
    if (!stopped) return;
    cursor = from;
    held = [];
    stopped = false;
    poll = setInterval(wake, pollMs);
    poll.unref();
    let close: (() => Promise<void>) | undefined;
    try {
      close = await listen?.(wake);
    } catch (err) {
      await stop();
      throw err;
    }
    if (stopped) await close?.(); // stop() was called while we were connecting
    else unlisten = close;
  }

  async function stop(): Promise<void> {
    stopped = true;
    clearInterval(poll);
    await loop;
    await unlisten?.();
    unlisten = undefined;
  }

  return {
    subscribe(subscriber) {
      subscribers.add(subscriber);
      return () => void subscribers.delete(subscriber);
    },
    wake,
    offer,
    start,
    stop,
  };
}

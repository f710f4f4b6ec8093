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
}

export interface Dispatcher {
  subscribe(subscriber: EventSubscriber): () => void;
  /** Asks for a dispatch pass; cheap and safe to call from anywhere, any number of times. */
  wake(): void;
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
export function createDispatcher({ readPage, pageSize, logger, pollMs, listen }: DispatcherOptions): Dispatcher {
  const subscribers = new Set<EventSubscriber>();
  let cursor = 0;
  let stopped = true;
  let passRequested = false;
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

  async function dispatchPass(): Promise<void> {
    for (;;) {
      const events = await readPage(cursor);
      for (const event of events) {
        if (stopped) return;
        await deliver(event);
        cursor = event.seq;
      }
      if (events.length < pageSize) return;
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

  function wake(): void {
    if (stopped) return;
    passRequested = true;
    loop ??= runLoop();
  }

  async function start(from: number): Promise<void> {
    if (!stopped) return;
    cursor = from;
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
    start,
    stop,
  };
}

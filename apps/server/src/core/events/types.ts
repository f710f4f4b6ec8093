import type { Tx } from '../db/database.js';

/** What a service appends: a named fact, the scopes that may see it, and its data. */
export interface EventInput<P = unknown> {
  /** `<module>.<entity>.<verb>`, e.g. `chat.message.created`. */
  type: string;
  /** Who may see it: `user:<id>`, `course:<id>`, `conversation:<id>`, or `system` (admins). */
  scopes: string[];
  payload: P;
  /** The user who caused it, when one did. */
  actorId?: string | null;
}

export interface StoredEvent<P = unknown> {
  /** Position in the log: strictly increasing in commit order; the cursor of every reader. */
  seq: number;
  id: string;
  type: string;
  scopes: string[];
  payload: P;
  actorId: string | null;
  createdAt: string;
}

/** Runs after commit, on every node, once per event, in seq order. */
export type EventHandler = (event: StoredEvent) => void | Promise<void>;

export interface EventSubscriber {
  /** Names this subscriber in logs. */
  name: string;
  /** Event types to receive; all when absent. A trailing `*` matches a prefix (`chat.*`). */
  types?: string[];
  handle: EventHandler;
}

export interface ReadOptions {
  /** Only events carrying at least one of these scopes. */
  scopes?: string[];
  limit?: number;
}

export interface EventLog {
  /**
   * Stores the event inside the caller's transaction; it is dispatched after commit. The event
   * returned is the very object this node's subscribers receive: read it, never change it.
   */
  append<P>(tx: Tx, event: EventInput<P>): Promise<StoredEvent<P>>;
  /**
   * Stores several events inside the caller's transaction in a few multi-row statements (a write
   * that concerns many users at once); returns them in the order given, their seqs in that order.
   */
  appendMany<P>(tx: Tx, events: ReadonlyArray<EventInput<P>>): Promise<Array<StoredEvent<P>>>;
  /** Events with seq > cursor, in seq order; never skips one that commits late. */
  readSince(cursor: number, options?: ReadOptions): Promise<StoredEvent[]>;
  /** Highest seq a reader may safely resume after (0 when the log is empty). */
  head(): Promise<number>;
  /**
   * Oldest seq still kept. Pruning removes a prefix of the log, so a reader at `cursor` has missed
   * nothing when `cursor >= oldestSeq - 1`; check after reading, and resync when it fails.
   */
  oldestSeq(): Promise<number | null>;
  subscribe(subscriber: EventSubscriber): () => void;
  /** Deletes events older than the retention period (never the newest); returns how many. */
  prune(): Promise<number>;
  /** Starts this node's dispatcher at the current head: subscribers get what commits from now on. */
  start(): Promise<void>;
  /** Stops dispatching once the event in hand is delivered, and closes the listener. */
  stop(): Promise<void>;
}

import type { EventLog, StoredEvent } from '../events/types.js';

/**
 * One connected client of the event stream: a socket or an SSE response. The fanout delivers
 * each persisted event to it at most once, in seq order, whichever path the event came by
 * (live dispatch or catch-up after a reconnect).
 */
export interface StreamClient {
  readonly id: string;
  readonly sessionId?: string;
  send(event: StoredEvent): void;
  /** Tells the client why (a stable code, and the finer reason when there is one) and closes it. */
  close(code: string, reason?: string): void;
  /** Tells the client that it was away longer than the log keeps events, and must resync. */
  resetRequired(oldestSeq: number | null): void;
  /** Clients that share one (a node's sockets) get an event in one call, encoded once for all of them. */
  readonly batch?: StreamBatch;
}

/** Sends one event to many clients at once (a Socket.io broadcast to their ids). */
export interface StreamBatch {
  sendMany(clientIds: string[], event: StoredEvent): void;
}

interface ClientState {
  client: StreamClient;
  scopes: Set<string>;
  lastSeq: number;
  /** While catching up, live events wait here so that nothing is sent twice or out of order. */
  buffer: StoredEvent[] | null;
}

export interface Fanout {
  /**
   * Registers a client for `scopes` and catches it up from `lastSeq` (events with a greater seq);
   * without `lastSeq` it receives only what happens from now on.
   */
  connect(client: StreamClient, scopes: string[], lastSeq?: number): Promise<void>;
  /** Adds a scope (a room joined after connecting); its events flow from now on. */
  join(clientId: string, scope: string): void;
  leave(clientId: string, scope: string): void;
  disconnect(clientId: string): void;
  /** Closes every client of a session that has ended. */
  endSession(sessionId: string, code: string, reason?: string): void;
  /** The live path: called by the event dispatcher for every committed event, in seq order. */
  publish(event: StoredEvent): void;
  size(): number;
}

export function createFanout(events: EventLog): Fanout {
  const clients = new Map<string, ClientState>();
  const byScope = new Map<string, Set<ClientState>>();

  const index = (state: ClientState, scope: string) => {
    let set = byScope.get(scope);
    if (!set) byScope.set(scope, (set = new Set()));
    set.add(state);
    state.scopes.add(scope);
  };
  const unindex = (state: ClientState, scope: string) => {
    const set = byScope.get(scope);
    set?.delete(state);
    if (set?.size === 0) byScope.delete(scope);
    state.scopes.delete(scope);
  };
  /** Whether the client still lacks `event`; if so, it counts as sent from now on. */
  const advance = (state: ClientState, event: StoredEvent): boolean => {
    if (event.seq <= state.lastSeq) return false;
    state.lastSeq = event.seq;
    return true;
  };
  const deliver = (state: ClientState, event: StoredEvent) => {
    if (advance(state, event)) state.client.send(event);
  };

  async function catchUp(state: ClientState, from: number) {
    const oldest = await events.oldestSeq();
    const head = await events.head();
    if (from < head && oldest !== null && from < oldest - 1) {
      // Events the client missed were pruned: it must resync rather than silently skip them.
      state.client.resetRequired(oldest);
      state.lastSeq = head;
      return;
    }
    let cursor = from;
    for (;;) {
      if (!clients.has(state.client.id)) return;
      const page = await events.readSince(cursor, { scopes: [...state.scopes], limit: 500 });
      for (const event of page) deliver(state, event);
      if (page.length < 500) return;
      cursor = page.at(-1)!.seq;
    }
  }

  return {
    async connect(client, scopes, lastSeq) {
      const state: ClientState = { client, scopes: new Set(), lastSeq: lastSeq ?? 0, buffer: [] };
      clients.set(client.id, state);
      for (const scope of scopes) index(state, scope);
      try {
        if (lastSeq === undefined) state.lastSeq = await events.head();
        else await catchUp(state, lastSeq);
      } finally {
        const waiting = state.buffer ?? [];
        state.buffer = null;
        for (const event of waiting) deliver(state, event);
      }
    },
    join(clientId, scope) {
      const state = clients.get(clientId);
      if (state) index(state, scope);
    },
    leave(clientId, scope) {
      const state = clients.get(clientId);
      if (state) unindex(state, scope);
    },
    disconnect(clientId) {
      const state = clients.get(clientId);
      if (!state) return;
      for (const scope of [...state.scopes]) unindex(state, scope);
      clients.delete(clientId);
    },
    endSession(sessionId, code, reason) {
      for (const state of [...clients.values()]) {
        if (state.client.sessionId !== sessionId) continue;
        this.disconnect(state.client.id);
        state.client.close(code, reason);
      }
    },
    publish(event) {
      const targets = new Set<ClientState>();
      for (const scope of event.scopes) for (const state of byScope.get(scope) ?? []) targets.add(state);
      // A room of a thousand members is one send of one encoded packet, not a thousand.
      const batches = new Map<StreamBatch, string[]>();
      for (const state of targets) {
        const batch = state.client.batch;
        if (state.buffer) state.buffer.push(event);
        else if (!batch) deliver(state, event);
        else if (advance(state, event)) {
          const ids = batches.get(batch);
          if (ids) ids.push(state.client.id);
          else batches.set(batch, [state.client.id]);
        }
      }
      for (const [batch, ids] of batches) batch.sendMany(ids, event);
    },
    size: () => clients.size,
  };
}

import { describe, expect, it } from 'vitest';
import type { EventLog, StoredEvent } from '../events/types.js';
import { createFanout, type StreamBatch, type StreamClient } from './fanout.js';

const event = (seq: number, scope = 'conversation:c1'): StoredEvent => ({ seq, id: `evt_${seq}`, type: 'chat.message.created', scopes: [scope], payload: { seq }, actorId: null, createdAt: '2026-12-05T12:00:00.000Z' });

/** A log holding `stored`; `readSince` waits for `gate` so that a test can publish while a client catches up. */
function logOf(stored: StoredEvent[], gate: Promise<void> = Promise.resolve()): EventLog {
  return {
    head: async () => stored.at(-1)?.seq ?? 0,
    oldestSeq: async () => stored[0]?.seq ?? null,
    readSince: async (cursor: number, options?: { scopes?: string[] }) => {
      await gate;
      return stored.filter((e) => e.seq > cursor && e.scopes.some((s) => options?.scopes?.includes(s)));
    },
  } as EventLog;
}

function clients(batch: StreamBatch) {
  const single: Record<string, number[]> = {};
  const client = (id: string): StreamClient => ({ id, batch, send: (e) => (single[id] ??= []).push(e.seq), close: () => undefined, resetRequired: () => undefined });
  return { single, client };
}

describe('fanout: live events to many sockets', () => {
  it('sends a live event once, to every client of its scope that has not had it, in one batch', async () => {
    const calls: Array<[string[], number]> = [];
    const batch: StreamBatch = { sendMany: (ids, e) => calls.push([[...ids].sort(), e.seq]) };
    const fanout = createFanout(logOf([event(1), event(2)]));
    const { single, client } = clients(batch);
    await fanout.connect(client('a'), ['conversation:c1']);
    await fanout.connect(client('b'), ['conversation:c1', 'user:b']);
    await fanout.connect(client('c'), ['conversation:other']);
    fanout.publish(event(3));
    fanout.publish(event(3)); // the same event again (two paths): nobody gets it twice
    fanout.publish(event(4, 'user:b'));
    expect(calls).toEqual([
      [['a', 'b'], 3],
      [['b'], 4],
    ]);
    expect(single).toEqual({});
  });

  it('a client still catching up gets live events after what it missed, one by one and in order, and is left out of the batch', async () => {
    const calls: Array<[string[], number]> = [];
    const batch: StreamBatch = { sendMany: (ids, e) => calls.push([ids, e.seq]) };
    let open!: () => void;
    const fanout = createFanout(logOf([event(1), event(2)], new Promise<void>((resolve) => (open = resolve))));
    const { single, client } = clients(batch);
    const catchingUp = fanout.connect(client('late'), ['conversation:c1'], 0);
    fanout.publish(event(3));
    expect(calls).toEqual([]);
    open();
    await catchingUp;
    expect(single).toEqual({ late: [1, 2, 3] });
    fanout.publish(event(4));
    expect(calls).toEqual([[['late'], 4]]);
  });
});

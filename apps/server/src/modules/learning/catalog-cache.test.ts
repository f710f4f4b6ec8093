import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../core/events/types.js';
import { createCatalogCache } from './catalog-cache.js';
import { LearningEvents } from './learning.events.js';

/** A node's cache over a log held in memory, and a page whose every computation is counted. */
function fakeNode() {
  const log: StoredEvent[] = [];
  let oldest = 1;
  let computed = 0;
  const append = (type: string) => log.push({ seq: log.length + 1, id: `evt_${log.length + 1}`, type, scopes: ['system'], payload: null, actorId: null, createdAt: '' });
  const cache = createCatalogCache<number>({
    maxEntries: 2,
    events: {
      head: async () => log.length,
      readSince: async (cursor, options) => log.filter((e) => e.seq > cursor && e.seq >= oldest).slice(0, options?.limit ?? 500),
      oldestSeq: async () => (log.length ? oldest : null),
    },
  });
  return {
    append,
    prune: (upTo: number) => (oldest = upTo + 1),
    computed: () => computed,
    page: (key = 'first', during?: () => void) =>
      cache.page(key, async () => {
        during?.();
        return ++computed;
      }),
  };
}

describe('learning: the catalog cache', () => {
  it('serves a page again until an event that changes the catalog commits', async () => {
    const node = fakeNode();
    node.append('learning.course.created');
    expect(await node.page()).toBe(1);
    expect(await node.page()).toBe(1);
    // Activity elsewhere in the log leaves the catalog as it was.
    node.append(LearningEvents.attemptSubmitted);
    node.append('chat.message.created');
    expect(await node.page()).toBe(1);
    for (const type of [LearningEvents.courseUpdated, LearningEvents.coursePublished, LearningEvents.courseDeleted, LearningEvents.enrollmentActivated, LearningEvents.enrollmentEnded, LearningEvents.courseCreated]) {
      const before = node.computed();
      node.append(type);
      expect(await node.page(), type).toBe(before + 1);
    }
  });

  it('does not keep a page read while the log moved', async () => {
    const node = fakeNode();
    expect(await node.page('first', () => node.append(LearningEvents.enrollmentActivated))).toBe(1);
    expect(await node.page()).toBe(2);
    expect(await node.page()).toBe(2);
  });

  it('starts afresh when the events to catch up on were pruned', async () => {
    const node = fakeNode();
    node.append(LearningEvents.attemptStarted);
    expect(await node.page()).toBe(1);
    node.append(LearningEvents.courseUpdated);
    node.append(LearningEvents.attemptStarted);
    node.prune(2);
    expect(await node.page()).toBe(2);
  });

  it('keeps the most recently used pages', async () => {
    const node = fakeNode();
    expect([await node.page('a'), await node.page('b'), await node.page('a'), await node.page('c')]).toEqual([1, 2, 1, 3]);
    expect(await node.page('a')).toBe(1);
    expect(await node.page('b')).toBe(4);
  });
});

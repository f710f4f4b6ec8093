import { describe, expect, it } from 'vitest';
import { tallyOf } from '../../../test/support/directory.js';
import type { FacetRow } from './directory.facets.js';
import type { ProfileChange } from './directory.repo.js';
import { createSearchCache, type CachedCounts } from './directory.search-cache.js';

const inChile = (vis: 0 | 1 | 2): FacetRow => ({
  graduation_year: 2000, vis_graduation_year: 1, program: null, vis_program: 1, department: null, vis_department: 1,
  industry: null, vis_industry: 1, country: 'Chile', vis_country: vis, skills: '["Rust"]', vis_skills: 1,
});

/** A cache over a fake database: `state.version` is its data version, `state.changes[v]` the write of version v. */
function fakeNode() {
  const state = { version: 1, changes: new Map<number, ProfileChange>(), kept: true };
  const cache = createSearchCache<string, string>({
    maxEntries: 10,
    dataVersion: async () => state.version,
    changesSince: async (from, to) => (state.kept ? Array.from({ length: to - from }, (_, i) => state.changes.get(from + i + 1)!) : undefined),
  });
  let computed = 0;
  const filter = { level: 1 as const, country: 'Chile' };
  const counts = (at: number, rows: FacetRow[], during?: () => void | Promise<void>) =>
    cache.counts(at, 'chile', filter, async (): Promise<CachedCounts<string>> => {
      computed++;
      await during?.();
      return { tally: tallyOf(rows, 1) };
    });
  return { state, counts, computed: () => computed };
}

describe('directory search cache', () => {
  it('applies a write to the cached counts instead of counting again, only where the viewer sees the field', async () => {
    const node = fakeNode();
    expect((await node.counts(1, [inChile(0)])).tally!.total).toBe(1);
    node.state.changes.set(2, { before: null, after: inChile(1) });
    node.state.changes.set(3, { before: null, after: inChile(2) });
    node.state.version = 3;
    const cached = await node.counts(3, []);
    expect(node.computed()).toBe(1);
    expect(cached.tally!.total).toBe(2);
    expect(cached.tally!.counts.skills.get('Rust')).toBe(2);
  });

  it('keeps no count made while the data version moved (its writes would be applied twice)', async () => {
    const node = fakeNode();
    await node.counts(1, [inChile(0)], () => {
      node.state.changes.set(2, { before: null, after: inChile(1) });
      node.state.version = 2;
    });
    await node.counts(1, [inChile(0)]);
    expect(node.computed()).toBe(2);
  });

  it('counts a filter missed by concurrent searches once, and only for searches at the same data version', async () => {
    const node = fakeNode();
    let release = () => {};
    const counting = new Promise<void>((resolve) => (release = resolve));
    const first = node.counts(1, [inChile(0)], () => counting);
    const second = node.counts(1, [inChile(0)]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    // A search after a write does not take the answer counted before it.
    node.state.changes.set(2, { before: null, after: inChile(1) });
    node.state.version = 2;
    const third = node.counts(2, [inChile(0), inChile(1)]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    release();
    expect((await Promise.all([first, second, third])).map((c) => c.tally!.total)).toEqual([1, 1, 2]);
    expect(node.computed()).toBe(2);
  });

  it('counts again when the writes since its version are no longer kept', async () => {
    const node = fakeNode();
    await node.counts(1, [inChile(0)]);
    node.state.kept = false;
    node.state.version = 5;
    expect((await node.counts(5, [inChile(0), inChile(1)])).tally!.total).toBe(2);
    expect(node.computed()).toBe(2);
  });
});

import { addToTally, type FacetRow, type Tally } from './directory.facets.js';
import { FILTER_COLUMNS, type ProfileChange, type ProfileFilter } from './directory.repo.js';

/** Cached facet counts: every value's count, or (the whole directory, read from the maintained counts) only the answer. */
export type CachedCounts<A> = { tally: Tally; answer?: A } | { tally?: undefined; answer: A };

/**
 * Whether a profile matches a filter without words, as the repo's SQL conditions decide it: each
 * condition holds only on a field the viewer may see.
 */
export function matchesFilter(filter: ProfileFilter, row: FacetRow): boolean {
  const visible = (vis: number) => Number(vis) <= filter.level;
  const year = row.graduation_year === null ? null : Number(row.graduation_year);
  if (filter.yearFrom !== undefined && !(year !== null && year >= filter.yearFrom && visible(row.vis_graduation_year))) return false;
  if (filter.yearTo !== undefined && !(year !== null && year <= filter.yearTo && visible(row.vis_graduation_year))) return false;
  for (const facet of ['program', 'department', 'industry', 'country'] as const) {
    const [column, vis] = FILTER_COLUMNS[facet];
    if (filter[facet] !== undefined && !(row[column] === filter[facet] && visible(row[vis]))) return false;
  }
  if (!filter.skills?.length) return true;
  const skills = JSON.parse(row.skills) as string[];
  return visible(row.vis_skills) && filter.skills.every((skill) => skills.includes(skill));
}

interface Entry<V> {
  filter: ProfileFilter;
  value: V;
}

/** Cached values by key, and the misses being computed with the version they are computed at. */
interface Store<V> {
  entries: Map<string, Entry<V>>;
  computing: Map<string, { at: number; value: Promise<V> }>;
}
const store = <V>(): Store<V> => ({ entries: new Map(), computing: new Map() });

export interface SearchCacheDeps {
  maxEntries: number;
  /** The directory's data version now (directory_state.version). */
  dataVersion(): Promise<number>;
  /** The writes after `from` up to `to`, or undefined when they are not all kept. */
  changesSince(from: number, to: number): Promise<ProfileChange[] | undefined>;
}

/**
 * A node's cache of search work — facet counts and result pages, per filter — valid for one
 * directory data version. Every profile write bumps the version and records its change in its own
 * transaction, so a search reads the version first, and when it has moved the cache catches up: it
 * applies each write to the cached counts (taking the profile off the counts of the filters its
 * old state matched, adding it to those its new state matches) and drops only the pages the profile
 * was or now is in. Counts stay exact: a count is only cached when the data version did not move
 * while it was counted. Filters with words are dropped on any write (whether a profile matches
 * words is the full-text index's decision, not one the server repeats). Works with several nodes:
 * each reads the changes recorded by all of them. Concurrent misses of one key at one version are
 * computed once: the searches that arrive while it is computed wait for that answer.
 */
export function createSearchCache<A, P>(deps: SearchCacheDeps) {
  let version = -1;
  let catchingUp: Promise<void> = Promise.resolve();
  const counts = store<CachedCounts<A>>();
  const pages = store<P>();
  const isUnfiltered = (f: ProfileFilter) =>
    !f.words?.length && f.yearFrom === undefined && f.yearTo === undefined && !f.program && !f.department && !f.industry && !f.country && !f.skills?.length;

  function apply(change: ProfileChange): void {
    const { before, after } = change;
    for (const [key, { filter, value }] of counts.entries) {
      if (filter.words?.length || !value.tally) {
        counts.entries.delete(key);
        continue;
      }
      const was = before !== null && matchesFilter(filter, before);
      const is = after !== null && matchesFilter(filter, after);
      if (!was && !is) continue;
      if (was) addToTally(value.tally, before, filter.level, -1);
      if (is) addToTally(value.tally, after, filter.level, 1);
      delete value.answer;
    }
    for (const [key, { filter }] of pages.entries) {
      const affected = filter.words?.length || isUnfiltered(filter) || [before, after].some((row) => row !== null && matchesFilter(filter, row));
      if (affected) pages.entries.delete(key);
    }
  }

  /** Brings the cache to version `at` (one catch-up at a time); false when `at` is older than the cache. */
  async function reach(at: number): Promise<boolean> {
    catchingUp = catchingUp.then(async () => {
      if (at <= version) return;
      try {
        const changes = version < 0 ? undefined : await deps.changesSince(version, at);
        if (!changes) throw new Error('the changes since the cached version are no longer kept');
        changes.forEach(apply);
      } catch {
        counts.entries.clear();
        pages.entries.clear();
      }
      version = at;
    });
    await catchingUp;
    return at === version;
  }

  async function get<V>({ entries, computing }: Store<V>, at: number, key: string, filter: ProfileFilter, compute: () => Promise<V>): Promise<V> {
    if (!(await reach(at))) return compute();
    const hit = entries.get(key);
    if (hit !== undefined) {
      // Least recently used goes first: re-inserting moves the key to the end.
      entries.delete(key);
      entries.set(key, hit);
      return hit.value;
    }
    const joined = computing.get(key);
    if (joined?.at === at) return joined.value;
    const value = (async () => {
      const value = await compute();
      // Cached only when counted from the data of version `at` exactly, and the cache is still there.
      if ((await deps.dataVersion()) === at && version === at) {
        entries.set(key, { filter, value });
        if (entries.size > deps.maxEntries) entries.delete(entries.keys().next().value!);
      }
      return value;
    })();
    computing.set(key, { at, value });
    try {
      return await value;
    } finally {
      if (computing.get(key)?.value === value) computing.delete(key);
    }
  }

  return {
    isUnfiltered,
    counts: (at: number, key: string, filter: ProfileFilter, compute: () => Promise<CachedCounts<A>>) => get(counts, at, key, filter, compute),
    page: (at: number, key: string, filter: ProfileFilter, compute: () => Promise<P>) => get(pages, at, key, filter, compute),
  };
}

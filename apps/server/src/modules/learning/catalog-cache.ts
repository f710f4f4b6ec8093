import type { EventLog } from '../../core/events/types.js';
import { LearningEvents } from './learning.events.js';

/**
 * The events whose transactions can change what a catalog page shows: a course's own fields and
 * co-teachers (created, updated, published, deleted) and its count of active students (an
 * enrollment activated or ended). Every write of those rows appends one of them in the same
 * transaction; a new kind of such write must append one of these too, or the cache would miss it.
 */
const CATALOG_CHANGES: ReadonlySet<string> = new Set([
  LearningEvents.courseCreated,
  LearningEvents.courseUpdated,
  LearningEvents.coursePublished,
  LearningEvents.courseDeleted,
  LearningEvents.enrollmentActivated,
  LearningEvents.enrollmentEnded,
]);

/** Reading more events than this to catch up costs more than recomputing the pages: start afresh. */
const MAX_CATCH_UP = 2000;
const READ_PAGE = 1000;

export interface CatalogCacheDeps {
  events: Pick<EventLog, 'head' | 'readSince' | 'oldestSeq'>;
  maxEntries: number;
}

/**
 * A node's cache of catalog pages (published public courses: the same for every caller), exact at
 * one position of the event log. Each read first asks the log for its head; when the head has
 * moved, the cache reads the events in between (once, for all waiting readers) and drops every
 * page if one of them may change the catalog. Since the log is shared, a write on any node is seen
 * by the next read on every node. A page is kept only when the head did not move while it was
 * read, so a page is never older than the position it is filed under.
 */
export function createCatalogCache<P>({ events, maxEntries }: CatalogCacheDeps) {
  /** The log position the cached pages are exact at; -1 before the first read. */
  let version = -1;
  let catchingUp: Promise<void> = Promise.resolve();
  const pages = new Map<string, P>();

  /** Whether an event after `from`, up to `to`, may have changed the catalog (true when that cannot be known). */
  async function changedBetween(from: number, to: number): Promise<boolean> {
    if (to - from > MAX_CATCH_UP) return true;
    for (let cursor = from; cursor < to; ) {
      const page = await events.readSince(cursor, { limit: READ_PAGE });
      if (page.some((event) => CATALOG_CHANGES.has(event.type))) return true;
      if (page.length < READ_PAGE) break;
      cursor = page.at(-1)!.seq;
    }
    // Pruning removes the start of the log: events we were to read may be gone.
    const oldest = await events.oldestSeq();
    return oldest !== null && from < oldest - 1;
  }

  /** Brings the cache to log position `at` (one catch-up at a time); false when `at` is older than the cache. */
  async function reach(at: number): Promise<boolean> {
    catchingUp = catchingUp.then(async () => {
      if (at <= version) return;
      try {
        if (version < 0 || (await changedBetween(version, at))) pages.clear();
      } catch {
        pages.clear();
      }
      version = at;
    });
    await catchingUp;
    return at === version;
  }

  return {
    /** The page under `key`, from the cache when it is still exact, else from `compute` (and kept). */
    async page(key: string, compute: () => Promise<P>): Promise<P> {
      const at = await events.head();
      if (!(await reach(at))) return compute();
      const hit = pages.get(key);
      if (hit !== undefined) {
        // Least recently used goes first: re-inserting moves the key to the end.
        pages.delete(key);
        pages.set(key, hit);
        return hit;
      }
      const value = await compute();
      if ((await events.head()) === at && version === at) {
        pages.set(key, value);
        if (pages.size > maxEntries) pages.delete(pages.keys().next().value!);
      }
      return value;
    },
  };
}

/**
 * A node's cache of search work (facet counts, totals, pages), valid for one directory data
 * version. Every profile write bumps the version in its own transaction, so a search that reads the
 * version first never serves counts older than the data it could see: on a newer version the cache
 * is emptied; a request that read an older version (it raced a write) neither reads nor fills it.
 * Works with several nodes: each keeps its own cache and checks the version in the database.
 */
export function createSearchCache<V>(maxEntries: number) {
  let version = -1;
  const entries = new Map<string, V>();

  function sync(at: number): boolean {
    if (at > version) {
      version = at;
      entries.clear();
    }
    return at === version;
  }

  return {
    async get(at: number, key: string, compute: () => Promise<V>): Promise<V> {
      if (!sync(at)) return compute();
      const hit = entries.get(key);
      if (hit !== undefined) {
        // Least recently used goes first: re-inserting moves the key to the end.
        entries.delete(key);
        entries.set(key, hit);
        return hit;
      }
      const value = await compute();
      if (sync(at)) {
        entries.set(key, value);
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      }
      return value;
    },
  };
}

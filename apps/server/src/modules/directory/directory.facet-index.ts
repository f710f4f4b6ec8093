import { FACET_SCALARS, type FacetRow, type Tally } from './directory.facets.js';
import type { FacetSnapshot, ProfileChange, ProfileFilter } from './directory.repo.js';

export interface FacetIndexDeps {
  /** Every profile's facet columns and the data version they belong to, read atomically. */
  load(): Promise<FacetSnapshot>;
  /** The writes after `from` up to `to`, or undefined when they are not all kept. */
  changesSince(from: number, to: number): Promise<ProfileChange[] | undefined>;
}

/** The exact-value filters, in FACET_SCALARS's order after the graduation year (a range). */
const EXACT = ['program', 'department', 'industry', 'country'] as const;
const SCALARS = FACET_SCALARS.length;
const NONE = -1;

/** Values to small integers and back (a facet's values, or the distinct skill lists). */
function dictionary<V>() {
  const ids = new Map<V, number>();
  const values: V[] = [];
  return {
    values,
    idOf: (value: V) => ids.get(value) ?? NONE,
    intern(value: V): number {
      let id = ids.get(value);
      if (id === undefined) {
        id = values.length;
        ids.set(value, id);
        values.push(value);
      }
      return id;
    },
  };
}

/** A growable column of small integers, one per slot. */
function column<T extends Int32Array | Uint8Array>(make: (n: number) => T) {
  return { data: make(1024), grow(size: number) { const next = make(size); next.set(this.data); this.data = next; } };
}

/**
 * The facet columns of the whole directory in this node's memory, to count a filter without words
 * in a few milliseconds instead of a statement that blocks SQLite's event loop. Writes carry no
 * profile id, so it is a multiset: each distinct combination of facet values and visibilities is a
 * slot with how many profiles have it, and a write takes one off its `before` and adds one to its
 * `after`. Values are dictionary-encoded, skill lists parsed once per distinct list. It follows the
 * same change feed as the search cache (directory_change), and loads everything again when that
 * feed no longer reaches back to its version. Counting follows the repo's SQL exactly: a filter
 * holds only on a field the viewer may see, and a value counts only where the viewer may see it.
 */
export function createFacetIndex(deps: FacetIndexDeps) {
  /** The dictionaries, and per slot: each scalar's value id (NONE: null) and level, the skill list's id and level, how many profiles. */
  const fresh = () => ({
    values: FACET_SCALARS.map(() => dictionary<string | number>()),
    skillNames: dictionary<string>(),
    skillLists: dictionary<string>(),
    /** Each distinct skill list (its JSON's id) as skill ids. */
    skillIds: [] as number[][],
    slotOf: new Map<string, number>(),
    free: [] as number[],
    slots: 0,
    /** Profiles held: the multiplicities' sum. */
    profiles: 0,
    ids: FACET_SCALARS.map(() => column((n) => new Int32Array(n))),
    vis: FACET_SCALARS.map(() => column((n) => new Uint8Array(n))),
    skills: column((n) => new Int32Array(n)),
    skillsVis: column((n) => new Uint8Array(n)),
    multiplicity: column((n) => new Int32Array(n)),
    /** Each scalar value's slots (a search walks only those of its rarest value), and each slot's place in them. */
    postings: FACET_SCALARS.map(() => [] as number[][]),
    place: FACET_SCALARS.map(() => column((n) => new Int32Array(n))),
  });
  let { values, skillNames, skillLists, skillIds, slotOf, free, slots, profiles, ids, vis, skills, skillsVis, multiplicity, postings, place } = fresh();
  let version = -1;
  let catchingUp: Promise<void> = Promise.resolve();

  // Loading again starts from empty dictionaries too: values no profile has any more are forgotten.
  const reset = () => ({ values, skillNames, skillLists, skillIds, slotOf, free, slots, profiles, ids, vis, skills, skillsVis, multiplicity, postings, place } = fresh());

  function skillListId(json: string): number {
    const id = skillLists.intern(json);
    if (id === skillIds.length) skillIds.push((JSON.parse(json) as string[]).map((skill) => skillNames.intern(skill)));
    return id;
  }

  /** The slot of a row's combination: its values' ids and levels, joined. */
  function encode(row: FacetRow): { key: string; valueIds: number[]; levels: number[]; list: number; listVis: number } {
    const valueIds = FACET_SCALARS.map(([facet, col], i) => (row[col] === null ? NONE : values[i]!.intern(facet === 'graduationYear' ? Number(row[col]) : row[col]!)));
    const levels = FACET_SCALARS.map(([, , v]) => Number(row[v]));
    const list = skillListId(row.skills);
    const listVis = Number(row.vis_skills);
    return { key: `${valueIds.join(',')}|${levels.join('')}|${list}|${listVis}`, valueIds, levels, list, listVis };
  }

  function add(row: FacetRow, sign: 1 | -1): void {
    const { key, valueIds, levels, list, listVis } = encode(row);
    let slot = slotOf.get(key);
    if (slot === undefined) {
      if (sign < 0) throw new Error('a profile left the directory index without having entered it');
      slot = free.pop() ?? slots++;
      const capacity = multiplicity.data.length;
      if (slot >= capacity) [...ids, ...vis, ...place, skills, skillsVis, multiplicity].forEach((c) => c.grow(capacity * 2));
      valueIds.forEach((id, i) => {
        ids[i]!.data[slot!] = id;
        if (id === NONE) return;
        const posting = (postings[i]![id] ??= []);
        place[i]!.data[slot!] = posting.length;
        posting.push(slot!);
      });
      levels.forEach((level, i) => (vis[i]!.data[slot!] = level));
      skills.data[slot] = list;
      skillsVis.data[slot] = listVis;
      multiplicity.data[slot] = 0;
      slotOf.set(key, slot);
    }
    multiplicity.data[slot] = multiplicity.data[slot]! + sign;
    profiles += sign;
    if (multiplicity.data[slot] === 0) {
      slotOf.delete(key);
      valueIds.forEach((id, i) => id !== NONE && unpost(i, id, slot!));
      free.push(slot);
    }
  }

  /** Takes `slot` off value `id`'s posting list (the last one takes its place). */
  function unpost(i: number, id: number, slot: number): void {
    const posting = postings[i]![id]!;
    const last = posting.pop()!;
    if (last === slot) return;
    const at = place[i]!.data[slot]!;
    posting[at] = last;
    place[i]!.data[last] = at;
  }

  function apply({ before, after }: ProfileChange): void {
    if (before) add(before, -1);
    if (after) add(after, 1);
  }

  async function reload(): Promise<void> {
    const snapshot = await deps.load();
    reset();
    for (const row of snapshot.rows) add(row, 1);
    version = snapshot.version;
  }

  /** Brings the index to version `at` (one catch-up at a time); loads it all when the feed does not reach back. */
  async function reach(at: number): Promise<void> {
    const run = async () => {
      if (version >= at) return;
      const changes = version < 0 ? undefined : await deps.changesSince(version, at);
      if (!changes) return reload();
      try {
        changes.forEach(apply);
      } catch (err) {
        version = -1; // half applied: the next search loads it all again
        throw err;
      }
      version = at;
    };
    const previous = catchingUp;
    // A failed catch-up changes nothing (a load replaces the index only once read): the next search tries again.
    catchingUp = previous.then(run, run);
    await catchingUp;
  }

  /** The filter's conditions as ids: undefined when a value no profile has is asked for (nothing matches). */
  function conditionsOf(filter: ProfileFilter) {
    const exact = EXACT.map((facet, e) => (filter[facet] === undefined ? undefined : values[e + 1]!.idOf(filter[facet]!)));
    if (exact.includes(NONE)) return undefined;
    const years = values[0]!.values as number[];
    const yearOk = Uint8Array.from(years, (y) => Number((filter.yearFrom === undefined || y >= filter.yearFrom) && (filter.yearTo === undefined || y <= filter.yearTo)));
    const wanted = (filter.skills ?? []).map((skill) => skillNames.idOf(skill));
    if (wanted.includes(NONE)) return undefined;
    const listOk = Uint8Array.from(skillIds, (list) => Number(wanted.every((id) => list.includes(id))));
    return { exact, yearOk, listOk, years: filter.yearFrom !== undefined || filter.yearTo !== undefined, skills: wanted.length > 0 };
  }

  /** A filter nothing matches: a value no profile has (an empty posting list). */
  const NOTHING = { exact: [NONE] as Array<number | undefined>, yearOk: new Uint8Array(), listOk: new Uint8Array(), years: false, skills: false };

  /** Whether slot `s` matches: each condition on a value the viewer may see. */
  function matches(s: number, level: number, c: typeof NOTHING): boolean {
    if (c.years && !(ids[0]!.data[s]! !== NONE && vis[0]!.data[s]! <= level && c.yearOk[ids[0]!.data[s]!])) return false;
    for (let e = 0; e < EXACT.length; e++) {
      const want = c.exact[e];
      if (want !== undefined && !(ids[e + 1]!.data[s] === want && vis[e + 1]!.data[s]! <= level)) return false;
    }
    return !c.skills || (skillsVis.data[s]! <= level && c.listOk[skills.data[s]!] === 1);
  }

  /** The tally of `filter` (without words) over the index as it is now. */
  function count(filter: ProfileFilter): Tally {
    const level = filter.level;
    const perValue = FACET_SCALARS.map((_, i) => new Float64Array(values[i]!.values.length));
    const perSkill = new Float64Array(skillNames.values.length);
    let total = 0;
    const c = conditionsOf(filter) ?? NOTHING;
    // The slots of the rarest value asked for, or (a filter on years or skills only) every slot.
    const lists = c.exact.flatMap((id, e) => (id === undefined ? [] : [postings[e + 1]![id] ?? []]));
    const candidates = lists.sort((a, b) => a.length - b.length)[0];
    const n = candidates ? candidates.length : slots;
    for (let k = 0; k < n; k++) {
      const s = candidates ? candidates[k]! : k;
      const m = multiplicity.data[s]!;
      if (m === 0 || !matches(s, level, c)) continue;
      total += m;
      for (let i = 0; i < SCALARS; i++) {
        const id = ids[i]!.data[s]!;
        if (id !== NONE && vis[i]!.data[s]! <= level) perValue[i]![id]! += m;
      }
      if (skillsVis.data[s]! <= level) for (const id of skillIds[skills.data[s]!]!) perSkill[id]! += m;
    }
    const mapOf = (counted: Float64Array, names: Array<string | number>) => new Map(names.flatMap((name, id) => (counted[id] ? [[name, counted[id]!] as const] : [])));
    const counts = Object.fromEntries(FACET_SCALARS.map(([facet], i) => [facet, mapOf(perValue[i]!, values[i]!.values)])) as Tally['counts'];
    counts.skills = mapOf(perSkill, skillNames.values) as Map<string | number, number>;
    return { total, counts };
  }

  return {
    /**
     * The tally of `filter` (without words) at data version `at` exactly, or undefined when the
     * index cannot be at that version (it has already moved past it): the caller counts in SQL.
     */
    async tally(at: number, filter: ProfileFilter): Promise<Tally | undefined> {
      await reach(at);
      // No await between the version check and the count: nothing can move the index in between.
      return version === at ? count(filter) : undefined;
    },
    /** Loads the index (or brings it up to `at`) ahead of the first search. */
    prepare: (at: number): Promise<void> => reach(at),
    /** How many profiles the index holds now (at whichever version it has reached). */
    profiles: () => profiles,
    /** Distinct combinations held (for measurements). */
    size: () => slotOf.size,
  };
}

export type FacetIndex = ReturnType<typeof createFacetIndex>;

import { FACETS, type FacetName, type SearchResultView } from './directory.schemas.js';
import type { ProfileRow, VisibilityLevel } from './directory.tables.js';

export type FacetCounts = SearchResultView['facets'];
const LEVELS: VisibilityLevel[] = [0, 1, 2];

export const FACET_COLUMNS = [
  'graduation_year', 'vis_graduation_year', 'program', 'vis_program', 'department', 'vis_department', 'industry', 'vis_industry', 'country', 'vis_country', 'skills', 'vis_skills',
] as const;
/** The columns facet counts are made of: each value with its visibility level. */
export type FacetRow = Pick<ProfileRow, (typeof FACET_COLUMNS)[number]>;

/** Each single-valued facet with its column and the visibility level column that guards it. */
export const FACET_SCALARS = [
  ['graduationYear', 'graduation_year', 'vis_graduation_year'],
  ['program', 'program', 'vis_program'],
  ['department', 'department', 'vis_department'],
  ['industry', 'industry', 'vis_industry'],
  ['country', 'country', 'vis_country'],
] as const;

/** Most frequent first; ties by value (numbers numerically, texts by code point, the same on both databases). */
function top(counts: Map<string | number, number>, limit: number): Array<{ value: string | number; count: number }> {
  return [...counts]
    .sort(([va, ca], [vb, cb]) => cb - ca || (va < vb ? -1 : va > vb ? 1 : 0))
    .slice(0, limit)
    .map(([value, count]) => ({ value, count }));
}

type Counts = Record<FacetName, Map<string | number, number>>;
const emptyCounts = () => Object.fromEntries(FACETS.map((f) => [f, new Map<string | number, number>()])) as Counts;
const topOfEach = (counts: Counts, limit: number) => Object.fromEntries(FACETS.map((f) => [f, top(counts[f], limit)])) as FacetCounts;

/** Every value's count (not only the top ones) among matching profiles, so that a write's difference can be added to it. */
export interface Tally {
  total: number;
  counts: Counts;
}

/** Adds (`sign` 1) or takes off (-1) what one profile counts for a viewer of `level`; a count that reaches zero is removed. */
export function addToTally(tally: Tally, row: FacetRow, level: VisibilityLevel, sign: 1 | -1): void {
  const add = (facet: FacetName, key: string | number) => {
    const count = (tally.counts[facet].get(key) ?? 0) + sign;
    if (count === 0) tally.counts[facet].delete(key);
    else tally.counts[facet].set(key, count);
  };
  tally.total += sign;
  for (const [facet, column, vis] of FACET_SCALARS) {
    const value = row[column];
    if (value === null || Number(row[vis]) > level) continue;
    add(facet, facet === 'graduationYear' ? Number(value) : value);
  }
  if (Number(row.vis_skills) <= level && row.skills !== '[]') {
    for (const skill of JSON.parse(row.skills) as string[]) add('skills', skill);
  }
}

/** The answer of a search: the total and each facet's `limit` most frequent values. */
export const answerOf = (tally: Tally, limit: number): { total: number; facets: FacetCounts } => ({ total: tally.total, facets: topOfEach(tally.counts, limit) });

/** A count made by the database: a facet's value (as text) and how many profiles have it; `total`/'' counts the profiles. */
export interface CountedRow {
  facet: string;
  value: string;
  count: number | string;
}

/** The tally of counts made by the database (the maintained counts, or a search's). */
export function tallyFrom(rows: CountedRow[]): Tally {
  const tally = { total: 0, counts: emptyCounts() };
  for (const { facet, value, count } of rows) {
    if (facet === 'total') tally.total = Number(count);
    else tally.counts[facet as FacetName].set(facet === 'graduationYear' ? Number(value) : value, Number(count));
  }
  return tally;
}

/** A change to one maintained count (directory_facet_count): `total`/'' counts every profile. */
export interface FacetCountChange {
  facet: FacetName | 'total';
  level: VisibilityLevel;
  value: string;
  delta: number;
}

/** Every maintained count a profile adds to: each value it has, at its field's level and every level above. */
function* contributions(row: FacetRow): Generator<Omit<FacetCountChange, 'delta'>> {
  for (const level of LEVELS) yield { facet: 'total', level, value: '' };
  for (const [facet, column, vis] of FACET_SCALARS) {
    const value = row[column];
    if (value === null) continue;
    for (const level of LEVELS.slice(Number(row[vis]))) yield { facet, level, value: String(value) };
  }
  if (row.skills === '[]') return;
  for (const skill of JSON.parse(row.skills) as string[]) {
    for (const level of LEVELS.slice(Number(row.vis_skills))) yield { facet: 'skills', level, value: skill };
  }
}

/**
 * What a profile write does to the maintained counts (`before` null: a create; `after` null: a
 * delete): only the counts that move. Sorted, so that concurrent writers lock counter rows in the
 * same order (no deadlocks on PostgreSQL).
 */
export function facetCountChanges(before: FacetRow | null, after: FacetRow | null): FacetCountChange[] {
  const changes = new Map<string, FacetCountChange>();
  const add = (row: FacetRow | null, delta: number) => {
    if (!row) return;
    for (const key of contributions(row)) {
      const id = JSON.stringify([key.facet, key.level, key.value]);
      const change = changes.get(id) ?? { ...key, delta: 0 };
      change.delta += delta;
      changes.set(id, change);
    }
  };
  add(before, -1);
  add(after, 1);
  return [...changes]
    .filter(([, change]) => change.delta !== 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, change]) => change);
}

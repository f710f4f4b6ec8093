import type { FacetRow } from './directory.repo.js';
import type { FacetName, SearchResultView } from './directory.schemas.js';
import type { VisibilityLevel } from './directory.tables.js';

export type FacetCounts = SearchResultView['facets'];

const COLUMNS = [
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

/**
 * The total and every facet's counts from the matching profiles, in one pass (one query instead
 * of a count and one GROUP BY per facet). A value counts only when the viewer may see its field.
 */
export function countFacets(rows: FacetRow[], level: VisibilityLevel, limit: number): { total: number; facets: FacetCounts } {
  const counts = Object.fromEntries([...COLUMNS.map(([facet]) => facet), 'skills'].map((f) => [f, new Map<string | number, number>()])) as Record<FacetName, Map<string | number, number>>;
  for (const row of rows) {
    for (const [facet, column, vis] of COLUMNS) {
      const value = row[column];
      if (value === null || Number(row[vis]) > level) continue;
      const key = facet === 'graduationYear' ? Number(value) : value;
      counts[facet].set(key, (counts[facet].get(key) ?? 0) + 1);
    }
    if (Number(row.vis_skills) <= level && row.skills !== '[]') {
      for (const skill of JSON.parse(row.skills) as string[]) counts.skills.set(skill, (counts.skills.get(skill) ?? 0) + 1);
    }
  }
  const facets = Object.fromEntries(Object.entries(counts).map(([facet, map]) => [facet, top(map, limit)])) as FacetCounts;
  return { total: rows.length, facets };
}

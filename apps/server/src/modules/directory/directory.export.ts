import { stringify } from 'csv-stringify/sync';
import type { ExportRow } from './directory.repo.js';
import { DEFAULT_VISIBILITY, VISIBLE_FIELDS, type Visibility, type VisibleField } from './directory.schemas.js';
import type { VisibilityLevel } from './directory.tables.js';

const LEVEL: Record<Visibility, VisibilityLevel> = { public: 0, members: 1, hidden: 2 };
const COLUMN: Record<VisibleField, keyof ExportRow> = {
  email: 'email', graduationYear: 'graduation_year', program: 'program', department: 'department', company: 'company', jobTitle: 'job_title',
  industry: 'industry', city: 'city', country: 'country', skills: 'skills', bio: 'bio', links: 'links',
};

/** The CSV header: a field the caller may not see is still a column (with empty cells). */
const csvColumns = (full: boolean) => ['id', 'userId', 'name', ...VISIBLE_FIELDS, ...(full ? ['externalId'] : []), 'createdAt', 'updatedAt'];

/** A cell that starts like a formula is prefixed with ' so that spreadsheets show it as text. */
const text = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

/** One CSV line (RFC 4180 quoting by csv-stringify; its synchronous form, one record at a time, is the fastest here). */
const line = (cells: Array<string | number>) => stringify([cells]);

/** The header line. */
export const csvHeader = (full: boolean) => line(csvColumns(full));

/**
 * Turns a stored row into a CSV line (in `csvColumns` order) for a viewer of `level`, straight
 * from the columns: the export's hot loop, so no view object per profile.
 * Profiles share few distinct visibility settings: each is parsed once per export.
 */
export function csvLines(level: VisibilityLevel, full: boolean) {
  const visible = new Map<string, boolean[]>();
  const visibleFields = (json: string) => {
    let flags = visible.get(json);
    if (!flags) {
      const chosen = { ...DEFAULT_VISIBILITY, ...(JSON.parse(json) as Partial<Record<VisibleField, Visibility>>) };
      flags = VISIBLE_FIELDS.map((f) => LEVEL[chosen[f]] <= level);
      if (visible.size < 10_000) visible.set(json, flags);
    }
    return flags;
  };
  return (row: ExportRow): string => {
    const flags = visibleFields(row.visibility);
    const record: Array<string | number> = [row.id, row.user_id ?? '', text(row.name)];
    VISIBLE_FIELDS.forEach((field, i) => {
      const value = flags[i] ? row[COLUMN[field]] : null;
      if (value === null || value === undefined) record.push('');
      else if (field === 'skills') record.push(text((JSON.parse(value as string) as string[]).join('; ')));
      else if (field === 'links') record.push(text((JSON.parse(value as string) as Array<{ url: string }>).map((l) => l.url).join(' ')));
      else record.push(typeof value === 'number' ? value : text(value as string));
    });
    if (full) record.push(row.external_id === null ? '' : text(row.external_id));
    record.push(row.created_at, row.updated_at);
    return line(record);
  };
}

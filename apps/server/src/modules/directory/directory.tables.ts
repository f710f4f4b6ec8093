/** Row types of the directory module's tables (snake_case, as stored). */

/** 0 = public (anyone), 1 = members (signed-in callers), 2 = hidden (the person and admins). */
export type VisibilityLevel = 0 | 1 | 2;

export interface ProfileRow {
  id: string;
  /** The account this profile belongs to; null for a profile imported without one. */
  user_id: string | null;
  /** The identifier of an imported record in the school's own system; unique when set. */
  external_id: string | null;
  /** Integer key of the full-text document (SQLite FTS5 rowid); unique. */
  doc: number;
  name: string;
  /** lower(name), the sort key. */
  name_key: string;
  email: string | null;
  graduation_year: number | null;
  program: string | null;
  department: string | null;
  company: string | null;
  job_title: string | null;
  industry: string | null;
  city: string | null;
  country: string | null;
  /** JSON array of strings. */
  skills: string;
  bio: string | null;
  /** JSON array of { label, url }. */
  links: string;
  /** JSON object: field name → 'public' | 'members' | 'hidden'. */
  visibility: string;
  /** Visibility levels of the fields that can be filtered, faceted or sorted on. */
  vis_graduation_year: VisibilityLevel;
  vis_program: VisibilityLevel;
  vis_department: VisibilityLevel;
  vis_industry: VisibilityLevel;
  vis_country: VisibilityLevel;
  vis_skills: VisibilityLevel;
  /** Searchable text per viewer class: what a guest, a member and an admin may find the profile by. */
  search_public: string;
  search_members: string;
  search_all: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface ProfileSkillRow {
  profile_id: string;
  skill: string;
}

export interface ExportAuditRow {
  id: string;
  actor_id: string;
  format: string;
  /** 0 public, 1 members, 2 all. */
  level: number;
  rows: number | null;
  created_at: string;
}

export type ImportStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface ImportRow {
  id: string;
  actor_id: string;
  status: ImportStatus;
  /** JSON array: the file's header, as written. */
  columns: string;
  total_rows: number | null;
  processed_rows: number;
  created_count: number;
  updated_count: number;
  failed_count: number;
  duplicate_count: number;
  /** Why the whole import failed (a malformed file), when it did. */
  error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface ImportSourceRow {
  import_id: string;
  content: string;
}

export interface ImportErrorRow {
  import_id: string;
  /** 1 = the first data row after the header. */
  row_number: number;
  /** JSON array of messages. */
  errors: string;
  /** JSON object: the row's cells by header name. */
  record: string;
}

export interface DuplicateRow {
  id: string;
  /** The pair, the smaller id first. */
  profile_a: string;
  profile_b: string;
  reason: 'email' | 'nameAndYear';
  import_id: string | null;
  created_at: string;
  /** Set when an admin dismissed the pair: it is kept so that it is never flagged again. */
  dismissed_at: string | null;
}

export interface ReviewAuditRow {
  id: string;
  actor_id: string;
  action: 'merge' | 'dismiss';
  duplicate_id: string;
  kept_profile: string;
  /** The profile a merge deleted. */
  removed_profile: string | null;
  /** JSON: what the action did (merge: the fields taken from the removed profile). */
  details: string;
  created_at: string;
}

/** `data`: bumped in the transaction of every profile write (search caches compare it). */
export interface StateRow {
  name: string;
  version: number | string;
}

/**
 * Maintained facet counts, kept exact in the transaction of every profile write: how many profiles
 * a viewer of `level` sees with `value` in `facet` (values as text; `total`/'' counts every profile).
 */
export interface FacetCountRow {
  facet: string;
  value: string;
  level: VisibilityLevel;
  count: number;
}

/** One profile write per data version: the facet columns before and after it (JSON, null: none). */
export interface ChangeRow {
  version: number;
  before: string | null;
  after: string | null;
}

export interface DirectoryTables {
  directory_profile: ProfileRow;
  directory_profile_skill: ProfileSkillRow;
  directory_export_audit: ExportAuditRow;
  directory_import: ImportRow;
  directory_import_source: ImportSourceRow;
  directory_import_error: ImportErrorRow;
  directory_duplicate: DuplicateRow;
  directory_review_audit: ReviewAuditRow;
  directory_state: StateRow;
  directory_facet_count: FacetCountRow;
  directory_change: ChangeRow;
}

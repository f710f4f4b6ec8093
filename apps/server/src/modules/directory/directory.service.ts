import { Readable } from 'node:stream';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db/database.js';
import { isDbError } from '../../core/db/errors.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import type { Principal } from '../../core/http/access.js';
import { versionMismatch } from '../../core/http/etag.js';
import type { CursorCodec, Page } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import { wordsOf } from '../../core/text.js';
import type { UsersDirectory } from '../identity/index.js';
import { DirectoryErrors, profileNotFound } from './directory.errors.js';
import { DirectoryEvents, type ExportedPayload, type ProfileChangedPayload, type ProfileDeletedPayload } from './directory.events.js';
import { csvHeader, csvLines } from './directory.export.js';
import { answerOf, tallyFrom, type FacetCounts } from './directory.facets.js';
import { createFacetIndex } from './directory.facet-index.js';
import { directoryRepo, type DialectName, type ExportRow, type ProfileFilter, type SortSpec } from './directory.repo.js';
import { createSearchCache, type CachedCounts } from './directory.search-cache.js';
import {
  DEFAULT_VISIBILITY,
  VISIBLE_FIELDS,
  type ProfileCreate,
  type ProfilePatch,
  type ProfileView,
  type SearchQuery,
  type SearchResultView,
  type Sort,
  type Visibility,
  type VisibleField,
} from './directory.schemas.js';
import type { ProfileRow, VisibilityLevel } from './directory.tables.js';

/** Holders of this permission (admins) manage every profile and see every field. */
export const MANAGE_PERMISSION = 'directory:manage';

const LEVEL: Record<Visibility, VisibilityLevel> = { public: 0, members: 1, hidden: 2 };
const LEVEL_NAME = ['public', 'members', 'all'] as const;
const FACET_TOP = 20;
const EXPORT_PAGE = 2000;
/** Per node: facet counts of this many distinct filters, and this many result pages. */
const CACHED_SEARCHES = 2000;
/**
 * How many entries of the name index a filtered page may expect to walk (a narrow index: ~4 per
 * KiB page) rather than read its filter's matches from the filter's own index and sort them. At
 * 100,000 profiles a page of 21 walks the name order when the filter matches at least 210.
 */
const NAME_WALK_ENTRIES = 10_000;

export const isManager = (principal: Principal | null) => Boolean(principal?.permissions.has(MANAGE_PERMISSION));

/** What the caller may see of profiles in general: guests public fields, signed-in callers members fields, managers all. */
export const viewerLevel = (principal: Principal | null): VisibilityLevel => (!principal ? 0 : isManager(principal) ? 2 : 1);

/** Words of free text: letters and digits, lower case; everything else (FTS syntax included) separates words. */
export interface ProfileData {
  name: string;
  email: string | null;
  graduationYear: number | null;
  program: string | null;
  department: string | null;
  company: string | null;
  jobTitle: string | null;
  industry: string | null;
  city: string | null;
  country: string | null;
  skills: string[];
  bio: string | null;
  links: Array<{ label: string; url: string }>;
  visibility: Record<VisibleField, Visibility>;
}

export const clean = (value: string | null | undefined) => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
};

export function dedupeSkills(skills: string[]): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const raw of skills) {
    const skill = raw.trim();
    if (!skill || seen.has(skill.toLowerCase())) continue;
    seen.add(skill.toLowerCase());
    result.push(skill);
  }
  return result;
}

export function dataOf(row: ExportRow): ProfileData {
  return {
    name: row.name,
    email: row.email,
    graduationYear: row.graduation_year,
    program: row.program,
    department: row.department,
    company: row.company,
    jobTitle: row.job_title,
    industry: row.industry,
    city: row.city,
    country: row.country,
    skills: JSON.parse(row.skills) as string[],
    bio: row.bio,
    links: JSON.parse(row.links) as ProfileData['links'],
    visibility: { ...DEFAULT_VISIBILITY, ...(JSON.parse(row.visibility) as Partial<Record<VisibleField, Visibility>>) },
  };
}

function fieldText(data: ProfileData, field: VisibleField): string {
  const value = data[field];
  if (value === null || value === undefined) return '';
  if (field === 'skills') return data.skills.join(' ');
  if (field === 'links') return data.links.map((l) => l.label).join(' ');
  return String(value);
}

/** The searchable text for a viewer of `level`: the name and only the fields that viewer may see. */
function searchText(data: ProfileData, level: VisibilityLevel): string {
  const parts = [data.name, ...VISIBLE_FIELDS.filter((f) => LEVEL[data.visibility[f]] <= level).map((f) => fieldText(data, f))];
  return wordsOf(parts.join(' ')).join(' ');
}

export function rowOf(base: Pick<ProfileRow, 'id' | 'user_id' | 'external_id' | 'doc' | 'version' | 'created_at' | 'updated_at'>, data: ProfileData): ProfileRow {
  const v = data.visibility;
  return {
    ...base,
    name: data.name,
    name_key: data.name.toLowerCase(),
    email: data.email,
    graduation_year: data.graduationYear,
    program: data.program,
    department: data.department,
    company: data.company,
    job_title: data.jobTitle,
    industry: data.industry,
    city: data.city,
    country: data.country,
    skills: JSON.stringify(data.skills),
    bio: data.bio,
    links: JSON.stringify(data.links),
    visibility: JSON.stringify(v),
    vis_graduation_year: LEVEL[v.graduationYear],
    vis_program: LEVEL[v.program],
    vis_department: LEVEL[v.department],
    vis_industry: LEVEL[v.industry],
    vis_country: LEVEL[v.country],
    vis_skills: LEVEL[v.skills],
    search_public: searchText(data, 0),
    search_members: searchText(data, 1),
    search_all: searchText(data, 2),
  };
}

/** A profile as a viewer of `level` sees it: fields above that level are absent. */
export function viewOf(row: ExportRow, level: VisibilityLevel, options: { full?: boolean } = {}): ProfileView {
  const data = dataOf(row);
  const view: ProfileView = { id: row.id, userId: row.user_id, name: row.name, version: row.version, createdAt: row.created_at, updatedAt: row.updated_at };
  for (const field of VISIBLE_FIELDS) {
    if (LEVEL[data.visibility[field]] <= level) (view as Record<string, unknown>)[field] = data[field];
  }
  if (options.full) {
    view.visibility = data.visibility;
    view.externalId = row.external_id;
  }
  return view;
}

/** Who may see a profile's events: its account, when linked, and admins. */
export const scopesOf = (row: Pick<ProfileRow, 'user_id'>) => (row.user_id ? [`user:${row.user_id}`, 'system'] : ['system']);

export interface DirectoryServiceDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  events: EventLog;
  cursors: CursorCodec;
  users: UsersDirectory;
}

/** Alumni profiles with per-field visibility, faceted search and streamed exports. */
export function createDirectoryService(deps: DirectoryServiceDeps) {
  const { db, dialect, clock, events, cursors, users } = deps;
  const repo = (handle: Parameters<typeof directoryRepo>[0] = db) => directoryRepo(handle, dialect);

  /** The level a caller sees one profile at: its owner and managers see everything. */
  const levelFor = (principal: Principal | null, row: Pick<ProfileRow, 'user_id'>): VisibilityLevel =>
    principal && (isManager(principal) || (row.user_id !== null && row.user_id === principal.userId)) ? 2 : viewerLevel(principal);
  const present = (principal: Principal | null, row: ExportRow) => {
    const level = levelFor(principal, row);
    return viewOf(row, level, { full: level === 2 });
  };

  /** A profile the caller may change: their own, or any for a manager; another's is "not found". */
  function requireEditable(principal: Principal, row: ProfileRow | undefined): ProfileRow {
    if (!row || !(isManager(principal) || (row.user_id !== null && row.user_id === principal.userId))) throw profileNotFound();
    return row;
  }


  function sortSpec(sort: Sort | undefined, cursor: string | undefined): SortSpec {
    const s = sort ?? 'name';
    const spec: SortSpec = { key: s.replace('-', '') as SortSpec['key'], descending: s.startsWith('-') };
    if (cursor) {
      const values = cursors.decode(cursor);
      const [tag, value, id] = values;
      const valid = tag === s && typeof id === 'string' && (spec.key === 'name' ? typeof value === 'string' : typeof value === 'number');
      if (!valid || values.length !== 3) throw new AppError(400, 'PAGINATION_INVALID_CURSOR', 'The cursor belongs to another sort order.');
      spec.after = [value as string | number, id as string];
    }
    return spec;
  }

  type Answer = { total: number; facets: FacetCounts };
  const cache = createSearchCache<Answer, { rows: ExportRow[]; nextCursor: string | null }>({
    maxEntries: CACHED_SEARCHES,
    dataVersion: () => repo().dataVersion(),
    changesSince: (from, to) => repo().changesSince(from, to),
  });

  const index = createFacetIndex({ load: () => repo().facetSnapshot(), changesSince: (from, to) => repo().changesSince(from, to) });

  /** A filtered search's tally at `version`: without words from this node's facet index, else (or when the index has moved past `version`) in SQL. */
  async function tally(version: number, filter: ProfileFilter) {
    return (!filter.words?.length && (await index.tally(version, filter))) || repo().facetTally(filter);
  }

  /**
   * The total and facets of a search. The whole directory's are read from the maintained table (a
   * few rows) instead of being counted over every profile, which would block a node for ~1 s per
   * 100,000; a filtered search's are counted once (from the facet index when it has no words), then
   * kept up to date by the cache.
   */
  async function facetCounts(version: number, filter: ProfileFilter): Promise<Answer> {
    const cached = await cache.counts(version, filterKey(filter), filter, async (): Promise<CachedCounts<Answer>> =>
      cache.isUnfiltered(filter) ? { answer: answerOf(tallyFrom(await repo().facetCounts(filter.level, FACET_TOP)), FACET_TOP) } : { tally: await tally(version, filter) },
    );
    return (cached.answer ??= answerOf(cached.tally!, FACET_TOP));
  }

  /** The filter as a cache key: the same search written differently (word or skill order) is one key. */
  const filterKey = (f: ProfileFilter) =>
    JSON.stringify([f.level, [...new Set(f.words)].sort(), f.yearFrom, f.yearTo, f.program, f.department, f.industry, f.country, [...(f.skills ?? [])].sort()]);

  /**
   * Whether a filtered page should walk the name order (directory.repo.ts `search`): a walk meets
   * `limit` matches after about limit × profiles / matches index entries, and pays off while that
   * stays within NAME_WALK_ENTRIES; a rarer filter reads its matches from its own index instead.
   */
  const walkNameOrder = (filter: ProfileFilter, matches: number, limit: number) =>
    !cache.isUnfiltered(filter) && matches * NAME_WALK_ENTRIES >= limit * index.profiles();

  /** One page of profiles (rows shared by every viewer of the level; each caller's view is made per request). */
  async function page(version: number, filter: ProfileFilter, sort: Sort | undefined, limit: number, cursor: string | undefined, matches = 0) {
    const spec = sortSpec(sort, cursor);
    return cache.page(version, JSON.stringify([filterKey(filter), sort ?? 'name', limit, cursor ?? null]), filter, async () => {
      const rows = await repo().search(filter, spec, limit + 1, walkNameOrder(filter, matches, limit + 1));
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return {
        rows: items,
        nextCursor: rows.length > limit && last ? cursors.encode([sort ?? 'name', last.sort_value, last.id]) : null,
      };
    });
  }

  return {
    async create(principal: Principal, input: ProfileCreate): Promise<ProfileView> {
      const manager = isManager(principal);
      let userId: string | null;
      if (manager) userId = input.userId ?? null;
      else {
        if ((input.userId !== undefined && input.userId !== principal.userId) || (input.externalId !== undefined && input.externalId !== null)) {
          throw new AppError(403, 'FORBIDDEN', 'Only directory admins may create profiles for others or set externalId.');
        }
        userId = principal.userId;
      }
      // Looked up before the transaction: SQLite has one connection.
      if (userId && !(await users.lookup([userId])).get(userId)) throw new AppError(404, DirectoryErrors.DIRECTORY_USER_NOT_FOUND, 'No such account to link the profile to.');
      const data: ProfileData = {
        name: input.name.trim(),
        email: clean(input.email)?.toLowerCase() ?? null,
        graduationYear: input.graduationYear ?? null,
        program: clean(input.program),
        department: clean(input.department),
        company: clean(input.company),
        jobTitle: clean(input.jobTitle),
        industry: clean(input.industry),
        city: clean(input.city),
        country: clean(input.country),
        skills: dedupeSkills(input.skills ?? []),
        bio: clean(input.bio),
        links: (input.links ?? []).map((l) => ({ label: l.label.trim(), url: l.url })),
        visibility: { ...DEFAULT_VISIBILITY, ...input.visibility },
      };
      const now = clock.now().toISOString();
      const externalId = clean(input.externalId);
      const row = await withTransaction(db, async (tx) => {
        const r = repo(tx);
        if (userId && (await r.findByUser(userId))) throw new AppError(409, DirectoryErrors.DIRECTORY_PROFILE_EXISTS, 'This account already has a profile; change it with PATCH.');
        if (externalId && (await r.findByExternalId(externalId))) throw new AppError(409, DirectoryErrors.DIRECTORY_EXTERNAL_ID_TAKEN, 'Another profile has this externalId.');
        const row = rowOf({ id: newId('alm'), user_id: userId, external_id: externalId, doc: await r.nextDoc(), version: 1, created_at: now, updated_at: now }, data);
        await r.insert(row, data.skills);
        await events.append<ProfileChangedPayload>(tx, {
          type: DirectoryEvents.profileCreated,
          scopes: scopesOf(row),
          payload: { profileId: row.id, userId, version: 1 },
          actorId: principal.userId,
        });
        return row;
      }).catch((err: unknown) => {
        if (isDbError(err, 'unique')) throw new AppError(409, DirectoryErrors.DIRECTORY_PROFILE_EXISTS, 'This profile already exists (same account or externalId).');
        throw err;
      });
      return present(principal, row);
    },

    async get(principal: Principal | null, id: string): Promise<ProfileView> {
      const row = await repo().findById(id);
      if (!row) throw profileNotFound();
      return present(principal, row);
    },

    async mine(principal: Principal): Promise<ProfileView> {
      const row = await repo().findByUser(principal.userId);
      if (!row) throw new AppError(404, DirectoryErrors.DIRECTORY_PROFILE_NOT_FOUND, 'You have no profile yet; create one with POST /directory/profiles.');
      return present(principal, row);
    },

    async update(principal: Principal, id: string, ifMatch: number | undefined, patch: ProfilePatch): Promise<ProfileView> {
      const { version: bodyVersion, ...changes } = patch;
      if (ifMatch !== undefined && bodyVersion !== undefined && ifMatch !== bodyVersion) {
        throw new AppError(400, 'REQUEST_MALFORMED', 'If-Match and version disagree.');
      }
      const expected = ifMatch ?? bodyVersion;
      const row = await withTransaction(db, async (tx) => {
        const r = repo(tx);
        const current = requireEditable(principal, await r.findById(id));
        if (expected !== undefined && expected !== current.version) throw versionMismatch(current.version);
        const data = dataOf(current);
        const next: ProfileData = {
          ...data,
          ...(changes.name !== undefined ? { name: changes.name.trim() } : {}),
          ...(changes.email !== undefined ? { email: clean(changes.email)?.toLowerCase() ?? null } : {}),
          ...(changes.graduationYear !== undefined ? { graduationYear: changes.graduationYear } : {}),
          ...(changes.program !== undefined ? { program: clean(changes.program) } : {}),
          ...(changes.department !== undefined ? { department: clean(changes.department) } : {}),
          ...(changes.company !== undefined ? { company: clean(changes.company) } : {}),
          ...(changes.jobTitle !== undefined ? { jobTitle: clean(changes.jobTitle) } : {}),
          ...(changes.industry !== undefined ? { industry: clean(changes.industry) } : {}),
          ...(changes.city !== undefined ? { city: clean(changes.city) } : {}),
          ...(changes.country !== undefined ? { country: clean(changes.country) } : {}),
          ...(changes.skills !== undefined ? { skills: dedupeSkills(changes.skills) } : {}),
          ...(changes.bio !== undefined ? { bio: clean(changes.bio) } : {}),
          ...(changes.links !== undefined ? { links: changes.links.map((l) => ({ label: l.label.trim(), url: l.url })) } : {}),
          visibility: { ...data.visibility, ...changes.visibility },
        };
        const updated = rowOf({ ...current, version: current.version + 1, updated_at: clock.now().toISOString() }, next);
        if (!(await r.update(updated, current, next.skills))) throw versionMismatch(current.version + 1);
        await events.append<ProfileChangedPayload>(tx, {
          type: DirectoryEvents.profileUpdated,
          scopes: scopesOf(updated),
          payload: { profileId: id, userId: updated.user_id, version: updated.version, fields: Object.keys(changes).sort() },
          actorId: principal.userId,
        });
        return updated;
      });
      return present(principal, row);
    },

    async remove(principal: Principal, id: string, ifMatch: number | undefined): Promise<void> {
      await withTransaction(db, async (tx) => {
        const r = repo(tx);
        const current = requireEditable(principal, await r.findById(id));
        if (ifMatch !== undefined && ifMatch !== current.version) throw versionMismatch(current.version);
        await r.delete(current);
        await events.append<ProfileDeletedPayload>(tx, {
          type: DirectoryEvents.profileDeleted,
          scopes: scopesOf(current),
          payload: { profileId: id, userId: current.user_id },
          actorId: principal.userId,
        });
      });
    },

    /**
     * The account `userId` was deleted. Its profile is deleted, unless the school imported it (it has
     * an externalId): that one is a record of the school's, so it stays, unlinked, for the admins.
     * Idempotent: a second call finds no linked profile.
     */
    async forgetUser(userId: string): Promise<void> {
      await withTransaction(db, async (tx) => {
        const r = repo(tx);
        const row = await r.findByUser(userId);
        if (!row) return;
        if (row.external_id) {
          await r.unlink(row, clock.now().toISOString());
          await events.append<ProfileChangedPayload>(tx, {
            type: DirectoryEvents.profileUpdated,
            scopes: ['system'],
            payload: { profileId: row.id, userId: null, version: row.version + 1, fields: ['userId'] },
            actorId: null,
          });
          return;
        }
        await r.delete(row);
        await events.append<ProfileDeletedPayload>(tx, { type: DirectoryEvents.profileDeleted, scopes: scopesOf(row), payload: { profileId: row.id, userId }, actorId: null });
      });
    },

    async list(principal: Principal | null, query: { sort?: Sort; limit?: number; cursor?: string }): Promise<Page<ProfileView>> {
      const filter: ProfileFilter = { level: viewerLevel(principal) };
      const { rows, nextCursor } = await page(await repo().dataVersion(), filter, query.sort, query.limit ?? 20, query.cursor);
      return { items: rows.map((row) => present(principal, row)), nextCursor };
    },

    async search(principal: Principal | null, query: SearchQuery): Promise<SearchResultView> {
      if (query.yearFrom !== undefined && query.yearTo !== undefined && query.yearFrom > query.yearTo) {
        throw new AppError(422, 'VALIDATION_FAILED', 'yearFrom must not be after yearTo.', { errors: [{ path: '/querystring/yearFrom', message: 'must not be after yearTo' }] });
      }
      const filter: ProfileFilter = {
        level: viewerLevel(principal),
        words: wordsOf(query.q, 10),
        yearFrom: query.yearFrom,
        yearTo: query.yearTo,
        program: query.program,
        department: query.department,
        industry: query.industry,
        country: query.country,
        skills: query.skills?.length ? [...new Set(query.skills)] : undefined,
      };
      // Read first: the cached counts and pages are those of this version of the data (see directory.search-cache.ts).
      const version = await repo().dataVersion();
      // Counts first: how many profiles match decides how the page is read.
      const { total, facets } = await facetCounts(version, filter);
      const { rows, nextCursor } = await page(version, filter, query.sort, query.limit ?? 20, query.cursor, total);
      return { items: rows.map((row) => present(principal, row)), nextCursor, total, facets };
    },

    /**
     * The whole directory as the caller may see it, streamed a page at a time (constant memory).
     * Every export is recorded in directory_export_audit (admins' exports show level `all`).
     */
    async export(principal: Principal, format: 'csv' | 'json'): Promise<{ stream: Readable; contentType: string; filename: string }> {
      const level = viewerLevel(principal);
      const exportId = newId('dex');
      await withTransaction(db, async (tx) => {
        await repo(tx).insertExportAudit({ id: exportId, actor_id: principal.userId, format, level, rows: null, created_at: clock.now().toISOString() });
        await events.append<ExportedPayload>(tx, {
          type: DirectoryEvents.exported,
          scopes: ['system', `user:${principal.userId}`],
          payload: { exportId, format, level: LEVEL_NAME[level] },
          actorId: principal.userId,
        });
      });
      const full = level === 2;
      /** The profiles a page at a time, as the caller may see them; records the row count at the end. */
      async function* pages(): AsyncGenerator<ExportRow[]> {
        let after: string | null = null;
        let count = 0;
        for (;;) {
          const rows = await repo().exportPage(after, EXPORT_PAGE);
          count += rows.length;
          if (rows.length) yield rows;
          if (rows.length < EXPORT_PAGE) break;
          after = rows.at(-1)!.id;
        }
        await repo().finishExportAudit(exportId, count).catch(() => undefined);
      }
      const filename = `directory-${clock.now().toISOString().slice(0, 10)}.${format}`;
      if (format === 'json') {
        // One chunk per page: the array is written as it is read, never held whole.
        async function* json(): AsyncGenerator<string> {
          let first = true;
          yield '[';
          for await (const rows of pages()) {
            yield (first ? '' : ',') + rows.map((row) => JSON.stringify(viewOf(row, level, { full }))).join(',');
            first = false;
          }
          yield ']';
        }
        return { stream: Readable.from(json()), contentType: 'application/json; charset=utf-8', filename };
      }
      const toLine = csvLines(level, full);
      // One chunk per page of rows.
      async function* csv(): AsyncGenerator<string> {
        yield csvHeader(full);
        for await (const rows of pages()) yield rows.map(toLine).join('');
      }
      return { stream: Readable.from(csv()), contentType: 'text/csv; charset=utf-8', filename };
    },

    /** Loads this node's facet index, so that the first filtered search does not wait for it. */
    warmFacetIndex: async (): Promise<void> => index.prepare(await repo().dataVersion()),

    /** The latest exports (who, when, what level), for admins. */
    exportAudit: (limit = 50) => repo().listExportAudit(limit),
  };
}

export type DirectoryService = ReturnType<typeof createDirectoryService>;

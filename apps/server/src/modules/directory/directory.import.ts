import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { stringify } from 'csv-stringify';
import type { Clock } from '../../core/clock.js';
import type { Db, Tx } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import type { Principal } from '../../core/http/access.js';
import type { CursorCodec, Page } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { JobContext, JobQueue } from '../../core/jobs/types.js';
import { DirectoryErrors } from './directory.errors.js';
import { DirectoryEvents, type ImportCompletedPayload } from './directory.events.js';
import { directoryRepo, type DialectName } from './directory.repo.js';
import { DEFAULT_VISIBILITY, type DuplicateView, type ImportView } from './directory.schemas.js';
import { clean, dataOf, dedupeSkills, rowOf, viewOf, type ProfileData } from './directory.service.js';
import type { ImportRow, ProfileRow } from './directory.tables.js';

export const IMPORT_JOB = 'directory.import';
/** Largest CSV file accepted by POST /directory/import (about 100,000 profiles). */
export const IMPORT_MAX_BYTES = 32 * 1024 * 1024;
const BATCH = 200;

/** The columns an import reads (matched ignoring case, spaces, `_` and `-`); others are ignored. */
export const IMPORT_COLUMNS = ['externalId', 'name', 'email', 'graduationYear', 'program', 'department', 'company', 'jobTitle', 'industry', 'city', 'country', 'skills', 'bio', 'links'] as const;
type ImportColumn = (typeof IMPORT_COLUMNS)[number];
const COLUMN_BY_KEY = new Map<string, ImportColumn>(IMPORT_COLUMNS.map((c) => [c.toLowerCase(), c]));
const columnOf = (header: string): ImportColumn | undefined => COLUMN_BY_KEY.get(header.toLowerCase().replace(/[\s_-]/g, ''));

const TEXT_LIMITS: Partial<Record<ImportColumn, number>> = { name: 200, externalId: 200, program: 200, department: 200, company: 200, jobTitle: 200, industry: 100, city: 100, country: 100, bio: 5000 };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type Cells = Partial<Record<ImportColumn, string>>;

/** Checks one row; returns the profile fields it sets (only the columns the file has), or why it cannot be stored. */
export function validateRow(cells: Cells, present: ReadonlySet<ImportColumn>): { ok: true; externalId: string; fields: Partial<ProfileData> } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  for (const [column, value] of Object.entries(cells) as Array<[ImportColumn, string]>) {
    const limit = TEXT_LIMITS[column];
    if (limit !== undefined && value.length > limit) errors.push(`${column}: longer than ${limit} characters`);
    if (value.includes('\u0000')) errors.push(`${column}: contains a NUL character`);
  }
  const externalId = clean(cells.externalId);
  if (!externalId) errors.push('externalId: required');
  const name = clean(cells.name);
  if (!name) errors.push('name: required');
  const fields: Partial<ProfileData> = {};
  if (name) fields.name = name;
  for (const column of ['program', 'department', 'company', 'jobTitle', 'industry', 'city', 'country', 'bio'] as const) {
    if (present.has(column)) fields[column] = clean(cells[column]);
  }
  if (present.has('email')) {
    const email = clean(cells.email)?.toLowerCase() ?? null;
    if (email && (!EMAIL.test(email) || email.length > 254)) errors.push('email: not an email address');
    fields.email = email;
  }
  if (present.has('graduationYear')) {
    const raw = clean(cells.graduationYear);
    const year = raw === null ? null : Number(raw);
    if (raw !== null && (!/^\d{4}$/.test(raw) || year! < 1900 || year! > 2100)) errors.push('graduationYear: must be a year between 1900 and 2100');
    fields.graduationYear = year;
  }
  if (present.has('skills')) {
    const skills = dedupeSkills((cells.skills ?? '').split(';'));
    if (skills.length > 50) errors.push('skills: more than 50');
    if (skills.some((s) => s.length > 60)) errors.push('skills: a skill is longer than 60 characters');
    fields.skills = skills;
  }
  if (present.has('links')) {
    const urls = (cells.links ?? '').split(/\s+/).filter(Boolean);
    const links: ProfileData['links'] = [];
    for (const url of urls) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch {
        parsed = undefined;
      }
      if (!parsed || !/^https?:$/.test(parsed.protocol) || url.length > 2048) errors.push(`links: "${url.slice(0, 100)}" is not an http(s) URL`);
      else links.push({ label: parsed.hostname.slice(0, 100), url });
    }
    if (links.length > 20) errors.push('links: more than 20');
    fields.links = links;
  }
  return errors.length ? { ok: false, errors } : { ok: true, externalId: externalId!, fields };
}

const importView = (row: ImportRow): ImportView => ({
  id: row.id,
  status: row.status,
  columns: JSON.parse(row.columns) as string[],
  totalRows: row.total_rows,
  processedRows: row.processed_rows,
  created: row.created_count,
  updated: row.updated_count,
  failed: row.failed_count,
  duplicates: row.duplicate_count,
  error: row.error,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  finishedAt: row.finished_at,
});

export interface DirectoryImportsDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  events: EventLog;
  jobs: JobQueue;
  cursors: CursorCodec;
}

/**
 * CSV imports, run by the `directory.import` job: rows are validated one by one, stored in batches
 * (each batch and its progress in one transaction, so a retried job resumes after the last stored
 * batch), upserted by externalId, and checked for likely duplicates, which are flagged, not merged.
 */
export function createDirectoryImports(deps: DirectoryImportsDeps) {
  const { db, dialect, clock, events, jobs, cursors } = deps;
  const repo = (handle: Db | Tx = db) => directoryRepo(handle, dialect);

  function records(content: string) {
    return Readable.from([content]).pipe(parse({ columns: true, bom: true, skip_empty_lines: true, relax_column_count: true, trim: true }));
  }

  /** Stores one valid row: updates the profile with this externalId, or creates an unlinked one. */
  async function upsert(tx: Tx, importId: string, externalId: string, fields: Partial<ProfileData>, now: string) {
    const r = repo(tx);
    const existing = await r.findByExternalId(externalId);
    let row: ProfileRow;
    if (existing) {
      const data = { ...dataOf(existing), ...fields };
      row = rowOf({ ...existing, version: existing.version + 1, updated_at: now }, data);
      // Changed since it was read: the job is retried from the last stored batch (never a lost update).
      if (!(await r.update(row, existing, data.skills))) throw new Error(`profile ${existing.id} changed while the import stored it`);
    } else {
      const data: ProfileData = {
        name: fields.name!,
        email: null, graduationYear: null, program: null, department: null, company: null, jobTitle: null, industry: null, city: null, country: null, bio: null,
        skills: [], links: [],
        ...fields,
        visibility: { ...DEFAULT_VISIBILITY },
      };
      row = rowOf({ id: newId('alm'), user_id: null, external_id: externalId, doc: await r.nextDoc(), version: 1, created_at: now, updated_at: now }, data);
      await r.insert(row, data.skills);
    }
    let duplicates = 0;
    for (const other of await r.likelyDuplicates(row)) {
      const [a, b] = [row.id, other.id].sort() as [string, string];
      const reason = row.email && other.email === row.email ? 'email' : 'nameAndYear';
      if (await r.flagDuplicate({ id: newId('dup'), profile_a: a, profile_b: b, reason, import_id: importId, created_at: now, dismissed_at: null })) duplicates++;
    }
    return { created: !existing, duplicates };
  }

  async function run(job: JobContext<{ importId: string }>): Promise<void> {
    const { importId } = job.payload;
    const current = await repo().findImport(importId);
    if (!current || current.status === 'succeeded' || current.status === 'failed') return;
    const content = await repo().importSource(importId);
    if (content === undefined) return;
    let batch: Array<{ rowNumber: number; record: Record<string, string> }> = [];
    const header = JSON.parse(current.columns) as string[];
    const present = new Set(header.map(columnOf).filter((c): c is ImportColumn => c !== undefined));
    const flush = async () => {
      if (!batch.length) return;
      const rows = batch;
      batch = [];
      const now = clock.now().toISOString();
      await withTransaction(db, async (tx) => {
        const counts = { created: 0, updated: 0, failed: 0, duplicates: 0 };
        for (const { rowNumber: n, record } of rows) {
          const cells: Cells = {};
          for (const [key, value] of Object.entries(record)) {
            const column = columnOf(key);
            if (column) cells[column] = value;
          }
          const checked = validateRow(cells, present);
          if (!checked.ok) {
            counts.failed++;
            await repo(tx).insertImportError({ import_id: importId, row_number: n, errors: JSON.stringify(checked.errors), record: JSON.stringify(record) });
            continue;
          }
          const result = await upsert(tx, importId, checked.externalId, checked.fields, now);
          if (result.created) counts.created++;
          else counts.updated++;
          counts.duplicates += result.duplicates;
        }
        await repo(tx).addImportProgress(importId, rows.at(-1)!.rowNumber, counts, now);
      });
      if (job.signal.aborted) throw new Error('the import was interrupted; it resumes on the next attempt');
    };
    try {
      if (current.total_rows === null) {
        let total = 0;
        try {
          for await (const _ of records(content)) total++;
        } catch (err) {
          // A malformed file: the pass below stores what it can read, then fails the import.
          if (!(err instanceof CsvError)) throw err;
        }
        await repo().updateImport(importId, { total_rows: total, status: 'running', updated_at: clock.now().toISOString() });
      }
      let rowNumber = 0;
      for await (const record of records(content)) {
        rowNumber++;
        // A retried job resumes after the last batch it stored.
        if (rowNumber <= current.processed_rows) continue;
        batch.push({ rowNumber, record: record as Record<string, string> });
        if (batch.length >= BATCH) await flush();
      }
      await flush();
      await finish(importId, 'succeeded', null);
    } catch (err) {
      // A malformed file fails the import for good (rows already read are stored); anything else
      // is retried by the job queue, which resumes after the last stored batch.
      if (!(err instanceof CsvError)) throw err;
      await flush();
      await finish(importId, 'failed', `The file is not valid CSV: ${err.message}`.slice(0, 1000));
    }
  }

  async function finish(importId: string, status: 'succeeded' | 'failed', error: string | null) {
    await withTransaction(db, async (tx) => {
      const now = clock.now().toISOString();
      await repo(tx).updateImport(importId, { status, error, finished_at: now, updated_at: now });
      const row = (await repo(tx).findImport(importId))!;
      await events.append<ImportCompletedPayload>(tx, {
        type: DirectoryEvents.importCompleted,
        scopes: ['system', `user:${row.actor_id}`],
        payload: { importId, status, created: row.created_count, updated: row.updated_count, failed: row.failed_count, duplicates: row.duplicate_count },
        actorId: row.actor_id,
      });
    });
  }

  return {
    run,

    /** Checks the header and queues the import; the job does the rest. */
    async start(principal: Principal, content: string): Promise<ImportView> {
      let header: string[];
      try {
        header = ((parseSync(content, { bom: true, to_line: 1, relax_column_count: true, trim: true }) as string[][])[0] ?? []).map(String);
      } catch (err) {
        throw new AppError(422, DirectoryErrors.DIRECTORY_IMPORT_INVALID, `The file is not valid CSV: ${(err as Error).message}`.slice(0, 500));
      }
      const columns = new Set(header.map(columnOf));
      const missing = (['externalId', 'name'] as const).filter((c) => !columns.has(c));
      if (missing.length) {
        throw new AppError(422, DirectoryErrors.DIRECTORY_IMPORT_INVALID, `The header row must name the columns ${missing.join(' and ')}.`, {
          errors: missing.map((c) => ({ path: '/body', message: `missing column ${c}` })),
        });
      }
      const now = clock.now().toISOString();
      const row: ImportRow = {
        id: newId('imp'), actor_id: principal.userId, status: 'queued', columns: JSON.stringify(header.slice(0, 100)), total_rows: null, processed_rows: 0,
        created_count: 0, updated_count: 0, failed_count: 0, duplicate_count: 0, error: null, created_at: now, updated_at: now, finished_at: null,
      };
      await withTransaction(db, async (tx) => {
        await repo(tx).insertImport(row, content);
        await jobs.enqueue(tx, IMPORT_JOB, { importId: row.id }, { uniqueKey: `directory.import:${row.id}` });
      });
      return importView(row);
    },

    async get(id: string): Promise<ImportView> {
      const row = await repo().findImport(id);
      if (!row) throw new AppError(404, DirectoryErrors.DIRECTORY_IMPORT_NOT_FOUND, 'No such import.');
      return importView(row);
    },

    /** The failed rows as CSV: row number, why, then the row's own cells; streamed a page at a time. */
    async errorReport(id: string): Promise<Readable> {
      const row = await repo().findImport(id);
      if (!row) throw new AppError(404, DirectoryErrors.DIRECTORY_IMPORT_NOT_FOUND, 'No such import.');
      const header = JSON.parse(row.columns) as string[];
      const csv = stringify({ header: true, columns: ['row', 'errors', ...header.map((h, i) => ({ key: `c${i}`, header: h }))], cast: { string: (v) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v) } });
      const source = Readable.from(
        (async function* () {
          let after = 0;
          for (;;) {
            const page = await repo().importErrors(id, after, 500);
            for (const e of page) {
              const record = JSON.parse(e.record) as Record<string, string>;
              yield { row: e.row_number, errors: (JSON.parse(e.errors) as string[]).join('; '), ...Object.fromEntries(header.map((h, i) => [`c${i}`, record[h] ?? ''])) };
            }
            if (page.length < 500) break;
            after = page.at(-1)!.row_number;
          }
        })(),
      );
      source.on('error', (err) => csv.destroy(err));
      source.pipe(csv);
      return csv;
    },

    /** Pairs of profiles that look like the same person, newest first, for an admin to review. */
    async duplicates(query: { limit?: number; cursor?: string }): Promise<Page<DuplicateView>> {
      const limit = query.limit ?? 20;
      const before = query.cursor ? cursors.decode(query.cursor)[0] : undefined;
      if (before !== undefined && typeof before !== 'string') throw new AppError(400, 'PAGINATION_INVALID_CURSOR', 'The cursor is not one this server issued for this list.');
      const rows = await repo().listDuplicates(before, limit + 1);
      const items = rows.slice(0, limit);
      const profiles = new Map((await repo().findProfiles([...new Set(items.flatMap((d) => [d.profile_a, d.profile_b]))])).map((p) => [p.id, p]));
      return {
        items: items.map((d) => ({
          id: d.id,
          reason: d.reason,
          importId: d.import_id,
          createdAt: d.created_at,
          profiles: [d.profile_a, d.profile_b].map((pid) => viewOf(profiles.get(pid)!, 2, { full: true })),
        })),
        nextCursor: rows.length > limit && items.length ? cursors.encode([items.at(-1)!.id]) : null,
      };
    },
  };
}

export type DirectoryImports = ReturnType<typeof createDirectoryImports>;

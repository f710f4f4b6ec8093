import type { Db, Tx } from '../db/database.js';
import type { DialectHelpers } from '../db/dialects/dialect.js';
import { inCompiledParts, inParts } from '../db/parts.js';
import { compileWriteReturningOn, perCount, rowsOf, valuesOf } from '../db/prepared-read.js';
import type { JobRecord, JobStatus } from './types.js';

const JOBS = 'core_jobs';

export interface JobRow {
  id: string;
  name: string;
  payload: string;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_at: string;
  lease_until: string | null;
  locked_by: string | null;
  last_error: string | null;
  unique_key: string | null;
  created_at: string;
  updated_at: string;
}

export type NewJobRow = Pick<JobRow, 'id' | 'name' | 'payload' | 'max_attempts' | 'run_at' | 'unique_key' | 'created_at'>;
type InsertedJobRow = NewJobRow & Pick<JobRow, 'status' | 'attempts' | 'updated_at'>;
const INSERTED_COLUMNS = ['id', 'name', 'payload', 'max_attempts', 'run_at', 'unique_key', 'created_at', 'status', 'attempts', 'updated_at'] as const satisfies ReadonlyArray<keyof InsertedJobRow>;

/** What a worker may write when an attempt ends. */
type Outcome = Partial<Pick<JobRow, 'status' | 'run_at' | 'lease_until' | 'locked_by' | 'last_error'>>;

export const toRecord = (row: JobRow): JobRecord => ({
  id: row.id,
  name: row.name,
  payload: JSON.parse(row.payload) as unknown,
  status: row.status,
  attempts: Number(row.attempts),
  maxAttempts: Number(row.max_attempts),
  runAt: row.run_at,
  lastError: row.last_error,
  uniqueKey: row.unique_key,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const changedAny = (result: { numUpdatedRows: bigint }) => result.numUpdatedRows > 0n;

/** The SQL of the job queue: every statement on `core_jobs`, portable across both dialects. */
export function createJobStore(db: Db, dialect: DialectHelpers) {
  /**
   * Updates a claimed job only while `nodeId` still holds this attempt of it. A worker whose lease
   * lapsed and was taken over (by another node or a later claim) changes nothing.
   */
  const ownedAttempt = (row: JobRow, nodeId: string) =>
    db
      .updateTable(JOBS)
      .where('id', '=', row.id)
      .where('status', '=', 'running')
      .where('locked_by', '=', nodeId)
      .where('attempts', '=', row.attempts);

  // Compiled once per number of rows (and of job names): jobs are enqueued in the writes of many
  // requests, and every wake-up claims.
  const insertJobs = perCount((count) =>
    compileWriteReturningOn(
      db,
      (q, ...values: unknown[]) =>
        q
          .insertInto(JOBS)
          .values(rowsOf<InsertedJobRow>(INSERTED_COLUMNS, values))
          // "Do nothing" rather than catching the unique violation: on PostgreSQL a failed statement
          // would abort the caller's whole transaction.
          .onConflict((oc) => oc.column('unique_key').doNothing())
          .returning('id'),
      count * INSERTED_COLUMNS.length,
    ),
  );
  const claimJobs = perCount((nameCount) =>
    compileWriteReturningOn(
      db,
      (q, nodeId: string, limit: number, now: string, leaseUntil: string, ...names: string[]) => {
        // Each kind of claimable job is read in its own index's order and cut at the limit, then the
        // two short lists are merged: a single OR of both read every due job and sorted them all
        // first, so that a claim cost more the longer the backlog it was meant to work off.
        const lock = <T extends { forUpdate(): { skipLocked(): T } }>(query: T): T => (dialect.skipLocked ? query.forUpdate().skipLocked() : query);
        const queued = lock(q.selectFrom(JOBS).select(['id', 'run_at']).where('status', '=', 'queued').where('run_at', '<=', now).where('name', 'in', names).orderBy('run_at').limit(limit));
        const lapsed = lock(q.selectFrom(JOBS).select(['id', 'run_at']).where('status', '=', 'running').where('lease_until', '<', now).where('name', 'in', names).orderBy('lease_until').limit(limit));
        const due = q
          .selectFrom((eb) => eb.selectFrom(queued.as('queued')).selectAll().unionAll(eb.selectFrom(lapsed.as('lapsed')).selectAll()).as('due'))
          .select('id')
          .orderBy('run_at')
          .limit(limit);
        return q
          .updateTable(JOBS)
          .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), lease_until: leaseUntil, locked_by: nodeId, updated_at: now }))
          .where('id', 'in', due)
          .returningAll();
      },
      4 + nameCount,
    ),
  );

  return {
    /**
     * Inserts jobs in `target` (the caller's transaction or the plain handle), in a few multi-row
     * statements; returns their ids in the order given. A job whose unique key already exists is not
     * inserted: the existing job's id stands in for it.
     */
    async insertMany(target: Db | Tx, jobs: readonly NewJobRow[]): Promise<string[]> {
      const inserted = new Set<string>();
      for (const part of inCompiledParts(jobs)) {
        const rows = part.map((job): InsertedJobRow => ({ ...job, status: 'queued', attempts: 0, updated_at: job.created_at }));
        for (const row of await insertJobs(part.length)(target, ...valuesOf(INSERTED_COLUMNS, rows))) inserted.add((row as { id: string }).id);
      }
      const duplicates = jobs.filter((job) => !inserted.has(job.id)).map((job) => job.unique_key!);
      const existing = new Map<string, string>();
      for (const part of inParts(duplicates)) {
        const rows = await target.selectFrom(JOBS).select(['id', 'unique_key']).where('unique_key', 'in', part).execute();
        for (const row of rows) existing.set(row.unique_key as string, row.id as string);
      }
      return jobs.map((job) => (inserted.has(job.id) ? job.id : existing.get(job.unique_key!)!));
    },

    /**
     * Atomically takes up to `limit` due jobs among `names`: queued ones whose time has come, and
     * running ones whose lease lapsed (their worker died). PostgreSQL's SKIP LOCKED lets nodes claim
     * side by side without waiting on each other; SQLite has a single writer, so the UPDATE is atomic.
     */
    async claimDue(claim: { nodeId: string; names: string[]; limit: number; now: string; leaseUntil: string }): Promise<JobRow[]> {
      const { nodeId, names, limit, now, leaseUntil } = claim;
      if (names.length === 0 || limit <= 0) return [];
      return (await claimJobs(names.length)(db, nodeId, limit, now, leaseUntil, ...names)) as JobRow[];
    },

    /** Extends the lease; false when the job is no longer this node's attempt. */
    async renewLease(row: JobRow, nodeId: string, leaseUntil: string): Promise<boolean> {
      return changedAny(await ownedAttempt(row, nodeId).set({ lease_until: leaseUntil }).executeTakeFirst());
    },

    /** Records how an attempt ended; false when the job was taken over meanwhile. */
    async finish(row: JobRow, nodeId: string, outcome: Outcome, now: string): Promise<boolean> {
      return changedAny(await ownedAttempt(row, nodeId).set({ ...outcome, updated_at: now }).executeTakeFirst());
    },

    /**
     * Hands this node's unfinished jobs back at shutdown (they are already due). The interrupted
     * attempt is not counted: the job did not fail, the node left.
     */
    async release(ids: string[], nodeId: string, now: string): Promise<void> {
      if (ids.length === 0) return;
      await db
        .updateTable(JOBS)
        .set((eb) => ({ status: 'queued', attempts: eb('attempts', '-', 1), lease_until: null, locked_by: null, updated_at: now }))
        .where('id', 'in', ids)
        .where('status', '=', 'running')
        .where('locked_by', '=', nodeId)
        .execute();
    },

    async retryDead(id: string, now: string): Promise<JobRow | undefined> {
      return (await db
        .updateTable(JOBS)
        .set({ status: 'queued', attempts: 0, run_at: now, last_error: null, lease_until: null, locked_by: null, updated_at: now })
        .where('id', '=', id)
        .where('status', '=', 'dead')
        .returningAll()
        .executeTakeFirst()) as JobRow | undefined;
    },

    async get(id: string): Promise<JobRow | undefined> {
      return (await db.selectFrom(JOBS).selectAll().where('id', '=', id).executeTakeFirst()) as JobRow | undefined;
    },

    /** Newest first (ids sort by creation time), after `afterId` for keyset pagination. */
    async list({ status, limit, afterId }: { status?: JobStatus; limit: number; afterId?: string }): Promise<JobRow[]> {
      let query = db.selectFrom(JOBS).selectAll().orderBy('id', 'desc').limit(limit);
      if (status) query = query.where('status', '=', status);
      if (afterId) query = query.where('id', '<', afterId);
      return (await query.execute()) as JobRow[];
    },

    async countByStatus(): Promise<Record<JobStatus, number>> {
      const rows = await db.selectFrom(JOBS).select(['status', (eb) => eb.fn.countAll().as('count')]).groupBy('status').execute();
      const counts: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, dead: 0 };
      for (const row of rows) counts[row.status as JobStatus] = Number(row.count);
      return counts;
    },

    async deleteSucceededBefore(cutoff: string): Promise<void> {
      await db.deleteFrom(JOBS).where('status', '=', 'succeeded').where('updated_at', '<', cutoff).execute();
    },
  };
}

export type JobStore = ReturnType<typeof createJobStore>;

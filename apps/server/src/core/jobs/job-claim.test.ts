import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect, openTestDatabase } from '../../../test/support/databases.js';
import { recordStatements } from '../../../test/support/statements.js';
import type { Database } from '../db/database.js';
import { createJobStore, type JobRow } from './job-store.js';

const at = (minute: number) => new Date(Date.UTC(2026, 11, 6, 9, minute)).toISOString();
const NOW = at(30);

function job(id: string, fields: Partial<JobRow>): JobRow {
  return { id, name: 'work', payload: '{}', status: 'queued', attempts: 0, max_attempts: 5, run_at: at(0), lease_until: null, locked_by: null, last_error: null, unique_key: null, created_at: at(0), updated_at: at(0), ...fields };
}

describeEachDialect('claiming due jobs', (dialect) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: Database;
  const statements = recordStatements();

  beforeAll(async () => {
    opened = await openTestDatabase(dialect);
    database = opened.database;
    const rows = [
      // A backlog of due jobs, oldest first by run_at (ids in another order).
      ...Array.from({ length: 20 }, (_, i) => job(`q${String(19 - i).padStart(2, '0')}`, { run_at: at(i + 1) })),
      // Its worker died: its lease lapsed; it was due before all of them.
      job('lapsed', { status: 'running', attempts: 1, run_at: at(0), lease_until: at(29), locked_by: 'node-gone' }),
      // Not claimable: a live lease, a job not due yet, another kind of job, a finished one.
      job('live', { status: 'running', attempts: 1, run_at: at(0), lease_until: at(45), locked_by: 'node-b' }),
      job('later', { run_at: at(40) }),
      job('other', { name: 'elsewhere', run_at: at(0) }),
      job('done', { status: 'succeeded', run_at: at(0) }),
    ];
    await database.db.insertInto('core_jobs').values(rows).execute();
  });
  afterAll(async () => {
    statements.restore();
    await opened?.close();
  });

  it('takes the oldest due jobs, a lapsed lease among them, by when they were due, and never twice', async () => {
    const store = createJobStore(database.db, database.dialect);
    // Which jobs a claim takes (RETURNING gives them in no particular order).
    const claim = async (limit: number) => (await store.claimDue({ nodeId: 'node-a', names: ['work'], limit, now: NOW, leaseUntil: at(35) })).sort((a, b) => a.id.localeCompare(b.id));
    const first = await claim(5);
    expect(first.map((j) => j.id)).toEqual(['lapsed', 'q16', 'q17', 'q18', 'q19']);
    expect(first.every((j) => j.status === 'running' && j.locked_by === 'node-a' && j.lease_until === at(35))).toBe(true);
    expect(first.find((j) => j.id === 'lapsed')!.attempts).toBe(2);
    expect((await claim(3)).map((j) => j.id)).toEqual(['q13', 'q14', 'q15']);
    expect((await claim(100)).map((j) => j.id)).toHaveLength(13);
    expect(await claim(100)).toEqual([]);
  });

  it.runIf(dialect === 'sqlite')('reads each kind of due job from its index, cut at the limit: never every due job, sorted', async () => {
    const claimSql = statements.seen.find((sql) => sql.startsWith('update "core_jobs"') && sql.includes('"lease_until" <'));
    expect(claimSql).toBeDefined();
    const parameters = Array.from({ length: (claimSql!.match(/\?/g) ?? []).length }, () => 'x');
    const plan = (await database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${claimSql}`, parameters))).rows.map((r) => r.detail);
    expect(plan).toContain('SEARCH core_jobs USING INDEX core_jobs_due (status=? AND run_at<?)');
    expect(plan).toContain('SEARCH core_jobs USING INDEX core_jobs_lease (status=? AND lease_until<?)');
    expect(plan.filter((line) => line.includes('MULTI-INDEX OR'))).toEqual([]);
  });
});

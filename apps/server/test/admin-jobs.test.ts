import { afterAll, beforeAll, expect, it } from 'vitest';
import { defineModule } from '../src/core/module.js';
import { createTestApp, type TestApp } from './support/app.js';
import { describeEachDialect } from './support/databases.js';
import { until } from './support/until.js';
import { createWidgetsModule } from './support/widgets/widgets.module.js';

const admin = { authorization: 'Bearer test:usr_admin:jobs:manage' };
const student = { authorization: 'Bearer test:usr_student' };

/** A module whose one job always fails, so that dead letters exist to look at. */
const failingModule = () =>
  defineModule({
    name: 'failing',
    jobs: { 'failing.always': { maxAttempts: 1, handle: async () => { throw new Error('upstream refused'); } } },
  });

describeEachDialect('admin: jobs', (dialect) => {
  let t: TestApp;
  let deadId: string;
  beforeAll(async () => {
    t = await createTestApp({ dialect, extraModules: [createWidgetsModule, failingModule], background: true });
    deadId = await t.core.jobs.enqueue(t.core.database.db, 'failing.always', { note: 'personal data stays hidden' });
    await until(async () => (await t.core.jobs.get(deadId))?.status === 'dead');
  });
  afterAll(() => t.destroy());

  it('lists dead jobs to an admin, without their payloads', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/admin/jobs?status=dead', headers: admin });
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(page.items).toEqual([expect.objectContaining({ id: deadId, name: 'failing.always', status: 'dead', attempts: 1, lastError: 'upstream refused' })]);
    expect(JSON.stringify(page)).not.toContain('personal data');
  });

  it('refuses the list to a guest (401) and to a student (403)', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/jobs' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/jobs', headers: student })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/jobs/${deadId}/retry`, headers: student })).statusCode).toBe(403);
  });

  it('retries a dead job; retrying a job that is not dead is a 409, an unknown one a 404', async () => {
    const retried = await t.app.inject({ method: 'POST', url: `/api/v1/admin/jobs/${deadId}/retry`, headers: admin });
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toMatchObject({ id: deadId, status: 'queued', attempts: 0 });
    await until(async () => (await t.core.jobs.get(deadId))?.status === 'dead');
    expect((await t.core.jobs.get(deadId))?.attempts).toBe(1);

    const live = await t.core.jobs.enqueue(t.core.database.db, 'failing.always', {}, { delayMs: 3600_000 });
    const conflict = await t.app.inject({ method: 'POST', url: `/api/v1/admin/jobs/${live}/retry`, headers: admin });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().code).toBe('JOBS_NOT_DEAD');
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/admin/jobs/job_nope/retry', headers: admin })).statusCode).toBe(404);
  });

  it('pages through jobs newest first', async () => {
    for (let i = 0; i < 5; i++) await t.core.jobs.enqueue(t.core.database.db, 'failing.always', {}, { delayMs: 3600_000 });
    const first = (await t.app.inject({ method: 'GET', url: '/api/v1/admin/jobs?limit=3', headers: admin })).json();
    const second = (await t.app.inject({ method: 'GET', url: `/api/v1/admin/jobs?limit=3&cursor=${first.nextCursor}`, headers: admin })).json();
    const ids = [...first.items, ...second.items].map((j: { id: string }) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort().reverse());
  });
});

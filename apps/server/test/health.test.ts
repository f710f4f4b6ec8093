import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { describeEachDialect } from './support/databases.js';
import { createWidgetsModule } from './support/widgets/widgets.module.js';

describeEachDialect('health and metrics', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ dialect, extraModules: [createWidgetsModule], env: { METRICS_ALLOW: '127.0.0.1,10.9.0.0/16' } });
  });
  afterAll(() => t.destroy());

  it('is live and ready once migrations are applied', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { database: { status: 'ok' }, migrations: { status: 'ok' } } });
  });

  it('is not ready while a migration is pending', async () => {
    await t.migrator.down();
    try {
      const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.migrations).toMatchObject({ status: 'fail', error: expect.stringMatching(/^1 pending/) });
    } finally {
      await t.migrator.up();
    }
  });

  it('exposes Prometheus metrics to allowed networks only', async () => {
    await t.app.inject({ method: 'GET', url: '/api/v1/widgets' });
    await t.app.inject({ method: 'GET', url: '/api/v1/widgets/wdg_missing' });
    await t.app.inject({ method: 'GET', url: '/api/v1/no-such-route' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.9.3.4' });
    expect(res.statusCode).toBe(200);
    for (const name of ['lyceum_http_request_duration_seconds_bucket', 'nodejs_eventloop_lag_seconds', 'lyceum_db_pool_connections', 'lyceum_jobs', 'lyceum_events_appended_total']) {
      expect(res.body).toContain(name);
    }
    expect(res.body).toMatch(/lyceum_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/widgets",status="200"\} \d+/);
    // By route pattern and status, never the raw URL; requests that match no route are "unmatched".
    expect(res.body).toMatch(/lyceum_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/widgets\/:id",status="404"\} [1-9]/);
    expect(res.body).toMatch(/lyceum_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} [1-9]/);
    expect(res.body).not.toContain('wdg_missing');
    const outsider = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.1' });
    expect(outsider.statusCode).toBe(403);
    const withPermission = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.1', headers: { authorization: 'Bearer test:usr_ops:metrics:read' } });
    expect(withPermission.statusCode).toBe(200);
  });
});

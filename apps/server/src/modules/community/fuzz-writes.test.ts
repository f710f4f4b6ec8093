import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import { createWidgetsModule } from '../../../test/support/widgets/widgets.module.js';
import { operationsOf, requestsFor, resolver, urlOf, type Operation } from '../../../test/hardening/openapi-fuzz.js';

const PREFIXES = ['/api/v1/posts', '/api/v1/comments', '/api/v1/users/', '/api/v1/feed', '/api/v1/moderation', '/api/v1/blocks', '/api/v1/courses/{id}/feed'];

/**
 * The shared fuzzer calls as a principal without `community:post`, so it never reaches the write
 * handlers; this one does, as a writer and moderator: no 5xx, no 2xx for invalid input.
 */
describeEachDialect('community: fuzzing the routes as a writer and moderator', (dialect) => {
  let t: TestApp;
  let document: any;
  let operations: Operation[];
  beforeAll(async () => {
    t = await createTestApp({ dialect, extraModules: [createWidgetsModule] });
    document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    operations = operationsOf(document).filter((op) => PREFIXES.some((p) => op.path.startsWith(p)));
  }, 180_000);
  afterAll(() => t.destroy());

  it('answers every generated request without a server error, and refuses invalid ones', async () => {
    expect(operations.length).toBeGreaterThan(25);
    const failures: string[] = [];
    const headers = { authorization: 'Bearer test:usr_fuzz:community:post,user:manage' };
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(requestsFor(op, resolver(document)), async (r) => {
          const hasBody = r.rawBody !== undefined || r.body !== undefined;
          const res = await t.app.inject({
            method: op.method as 'GET',
            url: urlOf(op, r),
            headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
            payload: r.rawBody ?? (r.body === undefined ? undefined : JSON.stringify(r.body)),
          });
          const where = `${op.method} ${urlOf(op, r).slice(0, 100)} [${r.mutation}] → ${res.statusCode}`;
          if (res.statusCode >= 500) failures.push(`${where}: ${res.body.slice(0, 200)}`);
          if (!r.valid && res.statusCode < 300) failures.push(`${where}: accepted invalid input`);
        }),
        { seed: 20261201, numRuns: 40 },
      );
    }
    expect(failures.slice(0, 20)).toEqual([]);
  }, 600_000);
});

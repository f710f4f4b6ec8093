import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { describeEachDialect } from './support/databases.js';
import { createWidgetsModule } from './support/widgets/widgets.module.js';
import { operationsOf, requestsFor, resolver, urlOf, type FuzzRequest, type Operation } from './hardening/openapi-fuzz.js';

/**
 * The hardening fuzzer's caller lacks `community:post`, so it never gets past the access rule of a
 * chat route. This one fuzzes every chat operation as a caller who has it, half the time aimed at
 * a real conversation and message of theirs, so that validation and the handlers themselves are
 * attacked: zero 5xx, zero 2xx for invalid input, every error a problem document.
 */
const RUNS = 60;
const SEED = 20261201;
const headers = { authorization: 'Bearer test:usr_chatfuzz:community:post' };

describeEachDialect('fuzzing the chat operations as a member', (dialect) => {
  let t: TestApp;
  let operations: Operation[];
  let document: any;
  const real: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp({ dialect, extraModules: [createWidgetsModule] });
    document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    // Deletions last, so that the real conversation lives through the rest.
    const rank = (op: Operation) => (op.method === 'DELETE' ? (op.path === '/api/v1/conversations/{id}' ? 2 : 1) : 0);
    operations = operationsOf(document)
      .filter((op) => op.path.startsWith('/api/v1/conversations'))
      .sort((a, b) => rank(a) - rank(b));
    const group = await t.app.inject({ method: 'POST', url: '/api/v1/conversations', headers, payload: { kind: 'group', title: 'Fuzz' } });
    expect(group.statusCode, group.body).toBe(201);
    real.id = group.json().id;
    const message = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${real.id}/messages`, headers, payload: { body: 'fuzz me', clientMessageId: 'fuzz-1' } });
    expect(message.statusCode, message.body).toBe(201);
    real.messageId = message.json().id;
  }, 180_000);
  afterAll(() => t.destroy());

  it('no 5xx, no 2xx for invalid input, every error a problem document', async () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    const failures: string[] = [];
    const reached = new Set<string>();
    for (const op of operations) {
      const requests = fc.tuple(requestsFor(op, resolver(document)), fc.boolean()).map(([r, aim]): FuzzRequest => {
        if (!aim || r.mutation.startsWith('pathParams.')) return r;
        const pathParams = { ...r.pathParams };
        for (const name of ['id', 'messageId'] as const) if (name in pathParams) pathParams[name] = real[name]!;
        return { ...r, pathParams };
      });
      await fc.assert(
        fc.asyncProperty(requests, async (r) => {
          const hasBody = r.rawBody !== undefined || r.body !== undefined;
          const res = await t.app.inject({
            method: op.method as 'GET',
            url: urlOf(op, r),
            headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
            payload: r.rawBody ?? (r.body === undefined ? undefined : JSON.stringify(r.body)),
          });
          const where = `${op.method} ${urlOf(op, r).slice(0, 120)} [${r.mutation}] → ${res.statusCode}`;
          if (res.statusCode < 300) reached.add(`${op.method} ${op.path}`);
          if (res.statusCode >= 500) failures.push(`${where}: server error ${res.body.slice(0, 200)}`);
          if (!r.valid && res.statusCode < 300) failures.push(`${where}: accepted invalid input`);
          if (res.statusCode >= 400 && !String(res.headers['content-type']).startsWith('application/problem+json')) failures.push(`${where}: not a problem document`);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    }
    expect(failures.slice(0, 20)).toEqual([]);
    // Proof that the fuzzer got past validation and authorization into the handlers of most operations.
    expect(reached.size, [...reached].join('\n')).toBeGreaterThanOrEqual(12);
  }, 600_000);
});

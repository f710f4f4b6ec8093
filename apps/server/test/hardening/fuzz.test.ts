import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemSchema } from '../../src/core/http/problem.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { describeEachDialect } from '../support/databases.js';
import { createWidgetsModule } from '../support/widgets/widgets.module.js';
import { operationsOf, requestsFor, resolver, urlOf, type FuzzRequest, type Operation } from './openapi-fuzz.js';

const RUNS_PER_OPERATION = 100;
const SEED = 20261122;
/** Fixture routes that fail or wait on purpose. */
const EXCLUDED = new Set(['/api/v1/widgets-boom', '/api/v1/widgets-slow']);
/** While working on one module: `LYCEUM_FUZZ_PATHS=/api/v1/courses,/api/v1/quizzes` fuzzes only paths with these prefixes. */
const ONLY = process.env.LYCEUM_FUZZ_PATHS?.split(',').filter(Boolean);

const actors = {
  anonymous: {},
  authenticated: { authorization: 'Bearer test:usr_fuzz:jobs:manage,metrics:read,widgets:admin' },
} as const;

/**
 * Every operation in /openapi.json, attacked with generated requests: zero 5xx, zero 2xx for
 * invalid input, every error a problem document, every success shaped as declared. New routes are
 * covered by this test without new test code.
 */
describeEachDialect('fuzzing every operation from the OpenAPI document', (dialect) => {
  let t: TestApp;
  let document: any;
  let operations: Operation[];
  let validateProblem: ValidateFunction;
  let ajv: Ajv;

  beforeAll(async () => {
    t = await createTestApp({ dialect, extraModules: [createWidgetsModule] });
    document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    // Streams never end, so they cannot be answered within one inject; they have their own tests.
    const streams = (op: Operation) => Object.values(op.responses).some((r) => r.content?.['text/event-stream']);
    operations = operationsOf(document).filter((op) => !EXCLUDED.has(op.path) && !streams(op) && (!ONLY || ONLY.some((prefix) => op.path.startsWith(prefix))));
    ajv = new Ajv({ strict: false, allErrors: true });
    (addFormats as unknown as (a: Ajv) => void)(ajv);
    for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    validateProblem = ajv.compile({ ...ProblemSchema, $id: undefined });
  });
  afterAll(() => t.destroy());

  it('covers every documented operation', () => {
    expect(operations.length).toBeGreaterThan(5);
  });

  async function send(op: Operation, r: FuzzRequest, headers: Record<string, string>) {
    const hasBody = r.rawBody !== undefined || r.body !== undefined;
    return t.app.inject({
      method: op.method as 'GET',
      url: urlOf(op, r),
      headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
      payload: r.rawBody ?? (r.body === undefined ? undefined : JSON.stringify(r.body)),
    });
  }

  function responseValidator(op: Operation, status: number): ValidateFunction | undefined {
    const response = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`];
    const schema = response?.content?.['application/json']?.schema;
    return schema ? ajv.compile(resolver(document)(schema)) : undefined;
  }

  for (const [actor, headers] of Object.entries(actors)) {
    it(`as ${actor}: no 5xx, no 2xx for invalid input, problems and successes as declared`, async () => {
      const failures: string[] = [];
      for (const op of operations) {
        const arbitrary = requestsFor(op, resolver(document));
        await fc.assert(
          fc.asyncProperty(arbitrary, async (r) => {
            const res = await send(op, r, headers);
            const where = `${actor} ${op.method} ${urlOf(op, r).slice(0, 120)} [${r.mutation}] → ${res.statusCode}`;
            if (res.statusCode >= 500) failures.push(`${where}: server error ${res.body.slice(0, 200)}`);
            if (!r.valid && res.statusCode < 300) failures.push(`${where}: accepted invalid input`);
            if (res.statusCode >= 400) {
              const contentType = String(res.headers['content-type']);
              if (!contentType.startsWith('application/problem+json') || !validateProblem(res.json())) failures.push(`${where}: not a problem document: ${res.body.slice(0, 200)}`);
            } else if (res.statusCode < 300 && res.headers['content-type']?.toString().startsWith('application/json')) {
              const validate = responseValidator(op, res.statusCode);
              if (validate && !validate(res.json())) failures.push(`${where}: response does not match its schema: ${ajv.errorsText(validate.errors)}`);
            }
          }),
          { seed: SEED, numRuns: RUNS_PER_OPERATION, endOnFailure: true },
        );
      }
      expect(failures.slice(0, 20)).toEqual([]);
    }, 300_000);
  }
});

describe('the fuzzer itself', () => {
  it('catches a route that accepts invalid input and one that crashes', async () => {
    const { defineModule } = await import('../../src/core/module.js');
    const { Type } = await import('@sinclair/typebox');
    const sloppy = () =>
      defineModule({
        name: 'sloppy',
        routes: async (app) => {
          // Declares a strict body but answers 200 without looking at validation results: a control.
          app.post(
            '/sloppy',
            { config: { access: 'public' }, attachValidation: true, schema: { summary: 'Sloppy', body: Type.Object({ n: Type.Integer({ maximum: 5 }) }, { additionalProperties: false }) } },
            async () => ({}),
          );
          app.get('/crashy', { config: { access: 'public' }, schema: { summary: 'Crashy', querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 40 })) }) } }, async (request) => {
            // Fails like a query built by string concatenation would, on a quote.
            if ((request.query as { q?: string }).q?.includes("'")) throw new Error('boom');
            return {};
          });
        },
      });
    const t = await createTestApp({ extraModules: [sloppy] });
    try {
      const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const ops = operationsOf(document);
      const findings: string[] = [];
      for (const op of ops.filter((o) => o.path.startsWith('/api/v1/sloppy') || o.path.startsWith('/api/v1/crashy'))) {
        await fc.assert(
          fc.asyncProperty(requestsFor(op, resolver(document)), async (r) => {
            const res = await t.app.inject({ method: op.method as 'GET', url: urlOf(op, r), headers: r.body !== undefined || r.rawBody !== undefined ? { 'content-type': 'application/json' } : {}, payload: r.rawBody ?? (r.body === undefined ? undefined : JSON.stringify(r.body)) });
            if (res.statusCode >= 500) findings.push(`${op.path} 5xx`);
            if (!r.valid && res.statusCode < 300) findings.push(`${op.path} accepted invalid`);
          }),
          { seed: SEED, numRuns: RUNS_PER_OPERATION },
        );
      }
      expect(findings.some((f) => f === '/api/v1/sloppy accepted invalid')).toBe(true);
      expect(findings.some((f) => f === '/api/v1/crashy 5xx')).toBe(true);
    } finally {
      await t.destroy();
    }
  }, 60_000);
});

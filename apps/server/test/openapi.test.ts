import SwaggerParser from '@apidevtools/swagger-parser';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { createWidgetsModule } from './support/widgets/widgets.module.js';

/** `/widgets/:id` → `/widgets/{id}`, the OpenAPI spelling of a path parameter. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('the OpenAPI document', () => {
  let t: TestApp;
  let document: any;
  beforeAll(async () => {
    t = await createTestApp({ extraModules: [createWidgetsModule] });
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    document = res.json();
  });
  afterAll(() => t.destroy());

  it('is valid OpenAPI 3.1', async () => {
    expect(document.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(document))).resolves.toBeDefined();
  });

  it('lints with zero errors under Redocly’s recommended rules', async () => {
    const config = await createConfig({ extends: ['recommended'], rules: { 'info-license-url': 'off' } });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: '/openapi.json', config });
    const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(errors).toEqual([]);
  });

  it('documents exactly the routes the server answers', () => {
    const served = t.routes
      .filter((r) => !r.hidden && r.method !== 'OPTIONS')
      .map((r) => `${r.method} ${openApiPath(r.url)}`)
      .sort();
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).filter((k) => k !== 'parameters').map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(served);
    // The hidden ones are the reference UI's own files, the document itself and the CORS preflight.
    const hidden = t.routes.filter((r) => r.hidden);
    expect(hidden.every((r) => r.url === '/openapi.json' || r.url.startsWith('/docs') || (r.method === 'OPTIONS' && r.url === '*'))).toBe(true);
  });

  it('declares the access rule and error responses of every operation', () => {
    for (const [path, ops] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.security, where).toBeDefined();
        expect(op['x-access'], where).toMatch(/^(public|authenticated|session|permission:.+)$/);
        expect(op.responses['4XX'] ?? op.responses['4xx'], where).toBeDefined();
      }
    }
  });

  it('serves the interactive reference at /docs', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('swagger-ui');
  });
});

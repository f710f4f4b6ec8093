import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ProblemSchema } from './problem.js';

// The interactive reference loads only its own files; no upgrade to https on a plain-http dev server.
const DOCS_CSP =
  "default-src 'self'; base-uri 'self'; img-src 'self' data:; object-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'self'";

/**
 * OpenAPI 3.1 generated from the route schemas, at `/openapi.json`, and a browsable reference at
 * `/docs`. Every route also answers errors as `Problem` documents.
 */
export async function registerOpenApi(app: FastifyInstance, { publicUrl, version }: { publicUrl: string; version: string }) {
  app.addSchema(ProblemSchema);
  app.addHook('onRoute', (route) => {
    const schema = (route.schema ??= {}) as { hide?: boolean; summary?: string; response?: Record<string, unknown> };
    if (schema.hide) return;
    if (!schema.summary) throw new Error(`Route ${String(route.method)} ${route.url} has no summary for the OpenAPI document`);
    const problem = { description: 'Problem details (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } };
    schema.response = { '4xx': problem, '5xx': problem, ...schema.response };
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lyceum API',
        version,
        description: 'Backend for learning and community apps. Conventions: see docs/api.md. Errors are RFC 9457 problem details.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: publicUrl }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An access token (JWT) or an API key (`lyk_…`).' } },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP, uiConfig: { deepLinking: true } });

  app.get('/openapi.json', { config: { access: 'public', rateLimit: false }, schema: { hide: true } }, async () => app.swagger());
}

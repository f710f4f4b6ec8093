import { Type } from '@sinclair/typebox';
import { Page, PageQuery } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import type { ApiKeys } from './api-keys.service.js';
import { clientOf, ignoreIdempotencyKey, requireSession } from './identity.routes.js';
import { ApiKey, ApiKeyCreate, ApiKeyCreated, IdParams } from './identity.schemas.js';

const tags = ['api-keys'];

export function apiKeyRoutes(apiKeys: ApiKeys) {
  return async (app: AppInstance) => {
    app.addSchema(ApiKey);

    app.get(
      '/api-keys',
      { config: { access: 'session' }, schema: { tags, summary: "List the caller's API keys", description: 'Never shows the keys themselves.', querystring: PageQuery, response: { 200: Page(Type.Ref(ApiKey)) } } },
      async (request) => apiKeys.list(requireSession(request).userId, request.query),
    );

    app.post(
      '/api-keys',
      {
        onRequest: ignoreIdempotencyKey,
        config: { access: 'session', freshSecondFactor: true },
        schema: {
          tags,
          summary: 'Create an API key',
          description: 'The key (`lyk_…`) is in this response only. It carries the permissions asked for, which must be a subset of the caller’s. Use it as `Authorization: Bearer lyk_…`.',
          body: ApiKeyCreate,
          response: { 201: ApiKeyCreated },
        },
      },
      async (request, reply) => {
        const created = await apiKeys.create(requireSession(request), request.body, clientOf(request));
        return reply.code(201).header('location', `/api/v1/api-keys/${created.apiKey.id}`).header('cache-control', 'no-store').send(created);
      },
    );

    app.get(
      '/api-keys/:id',
      { config: { access: 'session' }, schema: { tags, summary: 'Read one of the caller’s API keys', params: IdParams, response: { 200: Type.Ref(ApiKey) } } },
      async (request) => apiKeys.get(requireSession(request).userId, request.params.id),
    );

    app.delete(
      '/api-keys/:id',
      { config: { access: 'session' }, schema: { tags, summary: 'Revoke an API key', description: 'It stops working at once, on every node.', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await apiKeys.revoke(requireSession(request).userId, request.params.id, clientOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}

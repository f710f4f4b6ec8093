import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { Page, PageQuery } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import type { AdminService } from './admin.service.js';
import type { ApiKeys } from './api-keys.service.js';
import { clientOf, ignoreIdempotencyKey } from './identity.routes.js';
import { AdminUser, ApiKey, ApiKeyCreate, ApiKeyCreated, IdParams, ServiceAccountCreate, ServiceAccountKeyParams } from './identity.schemas.js';

const tags = ['admin'];
const manage = { permission: 'user:manage' } as const;

/** Admins create service accounts and issue, list and revoke their API keys. */
export function serviceAccountRoutes(deps: { admin: AdminService; apiKeys: ApiKeys }) {
  const { admin, apiKeys } = deps;
  return async (app: AppInstance) => {
    app.post(
      '/admin/service-accounts',
      {
        config: { access: manage, freshSecondFactor: true },
        schema: {
          tags,
          summary: 'Create a service account',
          description: 'A user that is a program: roles, no password, no mailbox. It acts only through API keys issued with POST /admin/service-accounts/{id}/api-keys. List them with GET /admin/users?kind=service; delete with DELETE /admin/users/{id}.',
          body: ServiceAccountCreate,
          response: { 201: Type.Ref(AdminUser) },
        },
      },
      async (request, reply) => {
        const account = await admin.createServiceAccount(requirePrincipal(request).userId, request.body, clientOf(request));
        return reply.code(201).header('location', `/api/v1/admin/users/${account.id}`).send(account);
      },
    );

    app.post(
      '/admin/service-accounts/:id/api-keys',
      {
        onRequest: ignoreIdempotencyKey,
        config: { access: manage, freshSecondFactor: true },
        schema: {
          tags,
          summary: "Issue an API key for a service account",
          description: "The key is in this response only. Its permissions must be a subset of the service account's.",
          params: IdParams,
          body: ApiKeyCreate,
          response: { 201: ApiKeyCreated },
        },
      },
      async (request, reply) => {
        const created = await apiKeys.createForServiceAccount(requirePrincipal(request).userId, request.params.id, request.body, clientOf(request));
        return reply.code(201).header('cache-control', 'no-store').send(created);
      },
    );

    app.get(
      '/admin/service-accounts/:id/api-keys',
      { config: { access: manage }, schema: { tags, summary: "List a service account's API keys", params: IdParams, querystring: PageQuery, response: { 200: Page(Type.Ref(ApiKey)) } } },
      async (request) => {
        await apiKeys.requireServiceAccount(request.params.id);
        return apiKeys.list(request.params.id, request.query);
      },
    );

    app.delete(
      '/admin/service-accounts/:id/api-keys/:keyId',
      { config: { access: manage }, schema: { tags, summary: "Revoke a service account's API key", params: ServiceAccountKeyParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await apiKeys.requireServiceAccount(request.params.id);
        await apiKeys.revoke(request.params.id, request.params.keyId, clientOf(request), requirePrincipal(request).userId);
        return reply.code(204).send(null);
      },
    );
  };
}

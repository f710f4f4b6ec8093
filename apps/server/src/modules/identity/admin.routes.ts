import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { expectedVersion, setEtag } from '../../core/http/etag.js';
import { Page } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import type { AdminService } from './admin.service.js';
import { AUTH_BODY_LIMIT, clientOf } from './identity.routes.js';
import { AdminUser, AdminUserPatch, AdminUserQuery, AuditEvent, AuditQuery, IdParams, SetupBody } from './identity.schemas.js';

const tags = ['admin'];
const manage = { permission: 'user:manage' } as const;

export function adminRoutes(deps: { admin: AdminService; setupToken: () => Promise<string | undefined>; rateLimit: { max: number; timeWindow: number } }) {
  const { admin } = deps;
  return async (app: AppInstance) => {
    app.addSchema(AdminUser);
    app.addSchema(AuditEvent);

    app.get(
      '/admin/users',
      { config: { access: manage }, schema: { tags, summary: 'List and search users', description: 'Newest first. `q` matches part of the email or display name.', querystring: AdminUserQuery, response: { 200: Page(Type.Ref(AdminUser)) } } },
      async (request) => admin.listUsers(request.query),
    );

    app.get(
      '/admin/users/:id',
      { config: { access: manage }, schema: { tags, summary: 'Read a user', params: IdParams, response: { 200: Type.Ref(AdminUser) } } },
      async (request, reply) => {
        const user = await admin.getUser(request.params.id);
        setEtag(reply, user.version);
        return user;
      },
    );

    app.patch(
      '/admin/users/:id',
      {
        config: { access: manage, freshSecondFactor: true },
        schema: {
          tags,
          summary: 'Change roles, disable or enable a user',
          description: 'A role change or disabling ends every session of the user. Accepts If-Match. The last active administrator cannot be demoted or disabled.',
          params: IdParams,
          body: AdminUserPatch,
          response: { 200: Type.Ref(AdminUser) },
        },
      },
      async (request, reply) => {
        const user = await admin.updateUser(requirePrincipal(request).userId, request.params.id, expectedVersion(request), request.body, clientOf(request));
        setEtag(reply, user.version);
        return user;
      },
    );

    app.delete(
      '/admin/users/:id',
      { config: { access: manage, freshSecondFactor: true }, schema: { tags, summary: 'Delete a user (personal data erased)', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await admin.deleteUser(requirePrincipal(request).userId, request.params.id, clientOf(request));
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/admin/users/:id/sessions',
      { config: { access: manage, freshSecondFactor: true }, schema: { tags, summary: 'End every session of a user', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await admin.endSessions(requirePrincipal(request).userId, request.params.id, clientOf(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/admin/users/:id/export',
      {
        config: { access: manage, freshSecondFactor: true },
        schema: { tags, summary: "Export a user's data as JSON", params: IdParams, response: { 200: Type.Object({ exportedAt: Type.String(), user: Type.Ref(AdminUser) }, { additionalProperties: true }) } },
      },
      async (request, reply) => {
        const data = await admin.exportUser(requirePrincipal(request).userId, request.params.id, clientOf(request));
        reply.header('content-disposition', `attachment; filename="user-${request.params.id}.json"`);
        return data;
      },
    );

    app.get(
      '/admin/audit-events',
      { config: { access: { permission: 'audit:read' } }, schema: { tags, summary: 'The security audit log', description: 'Newest first.', querystring: AuditQuery, response: { 200: Page(Type.Ref(AuditEvent)) } } },
      async (request) => admin.listAudit(request.query),
    );

    app.post(
      '/admin/setup',
      {
        config: { access: 'public', rateLimit: deps.rateLimit },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Create the first administrator with the setup token',
          description: 'Works only while no administrator exists, with the one-time token printed on the console at start.',
          body: SetupBody,
          response: { 201: Type.Ref(AdminUser) },
        },
      },
      async (request, reply) => {
        const expected = await deps.setupToken();
        const user = await admin.setupFirstAdmin(expected ?? '', request.body, clientOf(request));
        return reply.code(201).header('location', `/api/v1/admin/users/${user.id}`).send(user);
      },
    );
  };
}

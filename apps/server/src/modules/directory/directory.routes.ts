import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { expectedVersion, setEtag } from '../../core/http/etag.js';
import { Page } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import { ExportQuery, ListQuery, Profile, ProfileCreate, ProfileParams, ProfilePatch, SearchQuery, SearchResult } from './directory.schemas.js';
import type { DirectoryService } from './directory.service.js';

const tags = ['directory'];
const visibilityNote = 'Fields the caller may not see are absent: guests see public fields, signed-in callers public and members fields, the person and directory admins (`directory:manage`) everything.';

export function directoryRoutes(service: DirectoryService) {
  return async (app: AppInstance) => {
    app.addSchema(Profile);

    app.get(
      '/directory/profiles',
      {
        config: { access: 'public' },
        schema: { tags, summary: 'List alumni profiles', description: `Sorted by name (or graduation year). ${visibilityNote}`, querystring: ListQuery, response: { 200: Page(Type.Ref(Profile)) } },
      },
      async (request) => service.list(request.principal, request.query),
    );

    app.post(
      '/directory/profiles',
      {
        config: { access: { permission: 'profile:edit' } },
        schema: {
          tags,
          summary: 'Create a profile',
          description:
            'A member creates their own profile (one per account; 409 DIRECTORY_PROFILE_EXISTS otherwise). A directory admin creates a profile for any account (`userId`) or without one, and may set `externalId`.',
          body: ProfileCreate,
          response: { 201: Type.Ref(Profile) },
        },
      },
      async (request, reply) => {
        const profile = await service.create(requirePrincipal(request), request.body);
        setEtag(reply, profile.version);
        return reply.code(201).header('location', `/api/v1/directory/profiles/${profile.id}`).send(profile);
      },
    );

    app.get(
      '/directory/profiles/me',
      { config: { access: 'authenticated' }, schema: { tags, summary: "The caller's own profile", description: 'With every field and the visibility settings.', response: { 200: Type.Ref(Profile) } } },
      async (request, reply) => {
        const profile = await service.mine(requirePrincipal(request));
        setEtag(reply, profile.version);
        return profile;
      },
    );

    app.get(
      '/directory/profiles/:id',
      { config: { access: 'public' }, schema: { tags, summary: 'Read a profile', description: visibilityNote, params: ProfileParams, response: { 200: Type.Ref(Profile) } } },
      async (request, reply) => {
        const profile = await service.get(request.principal, request.params.id);
        setEtag(reply, profile.version);
        return profile;
      },
    );

    app.patch(
      '/directory/profiles/:id',
      {
        config: { access: { permission: 'profile:edit' } },
        schema: {
          tags,
          summary: 'Change a profile',
          description: 'JSON merge patch. The person changes their own profile; directory admins any. Accepts If-Match (or `version` in the body); 412 when it is not the current version.',
          params: ProfileParams,
          body: ProfilePatch,
          response: { 200: Type.Ref(Profile) },
        },
      },
      async (request, reply) => {
        const profile = await service.update(requirePrincipal(request), request.params.id, expectedVersion(request), request.body);
        setEtag(reply, profile.version);
        return profile;
      },
    );

    app.delete(
      '/directory/profiles/:id',
      {
        config: { access: { permission: 'profile:edit' } },
        schema: { tags, summary: 'Delete a profile', description: 'The person deletes their own profile; directory admins any. Accepts If-Match.', params: ProfileParams, response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        await service.remove(requirePrincipal(request), request.params.id, expectedVersion(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/directory/search',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'Search the directory',
          description: `Full text (\`q\`: every word must match) over the fields the caller may see, faceted filters, facet counts and keyset pagination. A field the caller may not see never matches, filters, counts or sorts. ${visibilityNote}`,
          querystring: SearchQuery,
          response: { 200: SearchResult },
        },
      },
      async (request) => service.search(request.principal, request.query),
    );

    app.get(
      '/directory/export',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Export the directory',
          description:
            'The whole directory as CSV (default) or a JSON array, streamed. Each profile shows only what the caller may see; directory admins get every field. Every export is recorded in the export audit.',
          querystring: ExportQuery,
          response: {
            200: {
              description: 'The profiles, as CSV or JSON.',
              content: {
                'text/csv': { schema: Type.String({ description: 'A header row, then one row per profile; skills separated by "; ", links by spaces.' }) },
                'application/json': { schema: Type.Array(Type.Ref(Profile)) },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const { stream, contentType, filename } = await service.export(requirePrincipal(request), request.query.format ?? 'csv');
        return reply.header('content-type', contentType).header('content-disposition', `attachment; filename="${filename}"`).header('cache-control', 'no-store').send(stream as never);
      },
    );
  };
}

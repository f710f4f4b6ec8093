import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { setEtag } from '../../core/http/etag.js';
import type { AppInstance } from '../../core/module.js';
import type { DuplicateReview } from './directory.review.js';
import { DuplicateParams, MergeRequest, Profile } from './directory.schemas.js';

const tags = ['directory'];
const manage = { permission: 'directory:manage' } as const;

/** Duplicate review (directory admins): dismiss a flagged pair, or merge it. */
export function duplicateRoutes(review: DuplicateReview) {
  return async (app: AppInstance) => {
    app.post(
      '/directory/duplicates/:id/dismiss',
      {
        config: { access: manage },
        schema: { tags, summary: 'Dismiss a likely duplicate', description: 'The pair leaves the list and is never flagged again. Audited.', params: DuplicateParams, response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        await review.dismiss(requirePrincipal(request), request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/directory/duplicates/:id/merge',
      {
        config: { access: manage },
        schema: {
          tags,
          summary: 'Merge a likely duplicate',
          description:
            'Keeps `keep` and deletes the other profile, in one transaction. The other’s values fill only the kept profile’s empty fields, unless `choices` says otherwise; a taken value keeps the stricter visibility. The account link and externalId move to the kept profile when it has none (409 DIRECTORY_MERGE_CONFLICT when both profiles belong to accounts). `keepVersion` and `otherVersion` are the versions reviewed: 412 when either changed since. Audited.',
          params: DuplicateParams,
          body: MergeRequest,
          response: { 200: Type.Ref(Profile) },
        },
      },
      async (request, reply) => {
        const profile = await review.merge(requirePrincipal(request), request.params.id, request.body);
        setEtag(reply, profile.version);
        return profile;
      },
    );
  };
}

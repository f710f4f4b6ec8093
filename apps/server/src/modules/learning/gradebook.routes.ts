import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import type { AppInstance } from '../../core/module.js';
import { Gradebook, GradebookRow } from './gradebook.schemas.js';
import type { GradebookService } from './gradebook.service.js';
import { IdParams } from './learning.schemas.js';

const tags = ['progress'];

/** The q-value an Accept header gives `type` (its most specific matching range), 0 when none matches. */
function quality(accept: string, type: string): number {
  const [major] = type.split('/');
  let best = { specificity: -1, q: 0 };
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === '*/*' ? 0 : -1;
    if (specificity <= best.specificity) continue;
    const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? 1);
    best = { specificity, q: Number.isFinite(q) ? q : 0 };
  }
  return best.q;
}

/** JSON only when the client ranks it above CSV; no Accept, or a tie, gives CSV. */
const prefersJson = (accept: string | undefined) => accept !== undefined && quality(accept, 'application/json') > quality(accept, 'text/csv');

/** The course gradebook, as CSV (default) or JSON (`Accept: application/json`), streamed. */
export function gradebookRoutes(gradebook: GradebookService) {
  return async (app: AppInstance) => {
    app.addSchema(GradebookRow);

    app.get(
      '/courses/:id/gradebook',
      {
        config: { access: { permission: 'course:enroll' } },
        schema: {
          tags,
          summary: 'The course gradebook',
          description:
            'Course teachers and administrators. One row per active student: the best score of each published quiz (as in GET /me/progress), progress percent and completion. CSV unless `Accept` prefers `application/json`; streamed. CSV cells that start like a formula are prefixed with `\'`.',
          params: IdParams,
          response: {
            200: {
              description: 'The gradebook.',
              content: {
                'text/csv': { schema: Type.String({ description: 'Header: userId, displayName, one column per published quiz (its title), percent, completed (yes/no), completedAt.' }) },
                'application/json': { schema: Gradebook },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const format = prefersJson(request.headers.accept) ? 'json' : 'csv';
        const { stream, contentType, filename } = await gradebook.export(requirePrincipal(request), request.params.id, format);
        return reply.header('content-type', contentType).header('content-disposition', `attachment; filename="${filename}"`).header('cache-control', 'no-store').send(stream as never);
      },
    );
  };
}

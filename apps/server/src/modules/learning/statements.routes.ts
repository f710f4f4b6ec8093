import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import type { AppInstance } from '../../core/module.js';
import type { StatementService } from './statements.service.js';
import { Statement, StatementsQuery } from './xapi.schemas.js';

/** Learning events as xAPI statements, for a school's learning record store. */
export function statementRoutes(statements: StatementService) {
  return async (app: AppInstance) => {
    app.addSchema(Statement);
    app.get(
      '/learning/statements',
      {
        // Checked in the service: `learning:statements` reads everyone's, `course:enroll` one's own.
        config: { access: 'authenticated' },
        schema: {
          tags: ['progress'],
          summary: 'Learning events as xAPI statements',
          description:
            'With `learning:statements` (administrators, or an API key carrying it): every learner’s statements. With `course:enroll` only: your own. In log order; keep `nextCursor` (never null: the position reached) and pass it as `since` to poll for more.',
          querystring: StatementsQuery,
          response: { 200: Type.Object({ items: Type.Array(Type.Ref(Statement)), nextCursor: Type.String() }, { additionalProperties: false }) },
        },
      },
      async (request) => statements.list(requirePrincipal(request), request.query),
    );
  };
}

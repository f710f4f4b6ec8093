import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import type { AppInstance } from '../../core/module.js';
import { ItemAnalysis } from './item-analysis.schemas.js';
import type { ItemAnalysisService } from './item-analysis.service.js';
import { IdParams } from './learning.schemas.js';

/** Item analysis of a quiz, for its course's teachers and administrators. */
export function itemAnalysisRoutes(analysis: ItemAnalysisService) {
  return async (app: AppInstance) => {
    app.addSchema(ItemAnalysis);
    app.get(
      '/quizzes/:id/item-analysis',
      {
        config: { access: { permission: 'course:enroll' } },
        schema: {
          tags: ['quizzes'],
          summary: 'Item analysis of a quiz',
          description:
            'Course teachers and administrators. Over each student’s latest graded attempt: per question, attempts, answers, share correct, mean score, discrimination (item-rest point-biserial correlation) and, for choice questions, the share of each option.',
          params: IdParams,
          response: { 200: Type.Ref(ItemAnalysis) },
        },
      },
      async (request) => analysis.analyse(requirePrincipal(request), request.params.id),
    );
  };
}

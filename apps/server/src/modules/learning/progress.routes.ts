import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import type { AppInstance } from '../../core/module.js';
import { IdParams } from './learning.schemas.js';
import { Certificate, CodeParams, CourseProgress } from './progress.schemas.js';
import type { ProgressService } from './progress.service.js';

const tags = ['progress'];

/** Lesson completion, the student's progress, and public certificate verification. */
export function progressRoutes(progress: ProgressService) {
  return async (app: AppInstance) => {
    app.addSchema(CourseProgress);
    app.addSchema(Certificate);

    app.post(
      '/lessons/:id/complete',
      {
        config: { access: { permission: 'course:enroll' } },
        schema: {
          tags,
          summary: 'Mark a lesson as completed',
          description: 'Active students of the course. Idempotent. Prerequisite lessons first (409 LEARNING_PREREQUISITES). Returns the course progress; completing the course issues a certificate.',
          params: IdParams,
          response: { 200: Type.Ref(CourseProgress) },
        },
      },
      async (request) => progress.completeLesson(requirePrincipal(request), request.params.id),
    );

    app.get(
      '/me/progress',
      {
        config: { access: { permission: 'course:enroll' } },
        schema: { tags, summary: 'My progress in every course I take', description: 'The same numbers the teacher’s roster shows.', response: { 200: Type.Object({ items: Type.Array(Type.Ref(CourseProgress)) }, { additionalProperties: false }) } },
      },
      async (request) => progress.mine(requirePrincipal(request)),
    );

    app.get(
      '/certificates/:code',
      { config: { access: 'public' }, schema: { tags, summary: 'Verify a certificate', description: 'Anyone holding the code may check who completed which course, and when.', params: CodeParams, response: { 200: Type.Ref(Certificate) } } },
      async (request) => progress.certificate(request.params.code),
    );
  };
}

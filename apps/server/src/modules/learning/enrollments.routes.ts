import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { expectedVersion, setEtag } from '../../core/http/etag.js';
import { Page } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import type { EnrollmentService } from './enrollments.service.js';
import { Enrollment, EnrollmentCreate, EnrollmentParams, EnrollmentPatch, EnrollmentQuery, IdParams } from './learning.schemas.js';

const tags = ['enrollments'];
const enroll = { permission: 'course:enroll' } as const;

/** Enrollment in a course: self-enrollment, requests and approvals, the teacher's roster. */
export function enrollmentRoutes(enrollments: EnrollmentService) {
  return async (app: AppInstance) => {
    app.addSchema(Enrollment);

    app.get(
      '/courses/:id/enrollments',
      {
        config: { access: enroll },
        schema: { tags, summary: 'The course roster', description: 'Course teachers and administrators. Filter by `status`.', params: IdParams, querystring: EnrollmentQuery, response: { 200: Page(Type.Ref(Enrollment)) } },
      },
      async (request) => enrollments.roster(requirePrincipal(request), request.params.id, request.query),
    );

    app.post(
      '/courses/:id/enrollments',
      {
        config: { access: enroll },
        schema: {
          tags,
          summary: 'Enroll (yourself, or a student as staff)',
          description:
            'Without `userId`: self-enrollment — active at once for public and unlisted courses, a pending request for private ones; the course must be published and its enrollment window open. With `userId` (course teachers and administrators): the student is enrolled at once. Capacity is enforced (409 LEARNING_COURSE_FULL).',
          params: IdParams,
          body: EnrollmentCreate,
          response: { 201: Type.Ref(Enrollment) },
        },
      },
      async (request, reply) => {
        const enrollment = await enrollments.enroll(requirePrincipal(request), request.params.id, request.body ?? {});
        setEtag(reply, enrollment.version);
        return reply.code(201).header('location', `/api/v1/courses/${enrollment.courseId}/enrollments/${enrollment.userId}`).send(enrollment);
      },
    );

    app.get(
      '/courses/:id/enrollments/:userId',
      {
        config: { access: enroll },
        schema: { tags, summary: 'Read an enrollment', description: 'Your own (`userId` = your id or `me`), or any of a course you teach.', params: EnrollmentParams, response: { 200: Type.Ref(Enrollment) } },
      },
      async (request, reply) => {
        const enrollment = await enrollments.get(requirePrincipal(request), request.params.id, request.params.userId);
        setEtag(reply, enrollment.version);
        return enrollment;
      },
    );

    app.patch(
      '/courses/:id/enrollments/:userId',
      {
        config: { access: enroll },
        schema: {
          tags,
          summary: 'Approve or reject an enrollment request',
          description: 'Course teachers and administrators; only pending requests. Approval takes a seat (409 LEARNING_COURSE_FULL). Accepts If-Match.',
          params: EnrollmentParams,
          body: EnrollmentPatch,
          response: { 200: Type.Ref(Enrollment) },
        },
      },
      async (request, reply) => {
        const enrollment = await enrollments.decide(requirePrincipal(request), request.params.id, request.params.userId, request.body, expectedVersion(request));
        setEtag(reply, enrollment.version);
        return enrollment;
      },
    );

    app.delete(
      '/courses/:id/enrollments/:userId',
      {
        config: { access: enroll },
        schema: {
          tags,
          summary: 'Withdraw, or remove a student',
          description: 'Your own enrollment (`me`): you withdraw (or cancel your request). Someone else’s: course teachers and administrators remove the student.',
          params: EnrollmentParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        await enrollments.end(requirePrincipal(request), request.params.id, request.params.userId);
        return reply.code(204).send(null);
      },
    );
  };
}

import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { setEtag } from '../../core/http/etag.js';
import { Page, PageQuery } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import { Invitation, InvitationCreate, InvitationParams, InvitationQuery } from './invitations.schemas.js';
import type { InvitationService } from './invitations.service.js';
import { Enrollment, IdParams } from './learning.schemas.js';

const tags = ['enrollments'];
const enroll = { permission: 'course:enroll' } as const;

/** Invitations: teachers invite, list and revoke; the invitee lists, accepts or declines their own. */
export function invitationRoutes(invitations: InvitationService) {
  return async (app: AppInstance) => {
    app.addSchema(Invitation);

    app.post(
      '/courses/:id/invitations',
      {
        config: { access: enroll },
        schema: {
          tags,
          summary: 'Invite someone to the course',
          description:
            'Course teachers and administrators. By `userId`, or by `email` of an existing account — an invitation by email looks the same whether or not the address has an account (no user id or name is shown, 201 either way). Expires after LEARNING_INVITATION_TTL_DAYS. 409 LEARNING_ALREADY_INVITED while one is pending.',
          params: IdParams,
          body: InvitationCreate,
          response: { 201: Type.Ref(Invitation) },
        },
      },
      async (request, reply) => {
        const invitation = await invitations.invite(requirePrincipal(request), request.params.id, request.body);
        setEtag(reply, invitation.version);
        return reply.code(201).header('location', `/api/v1/courses/${invitation.courseId}/invitations/${invitation.id}`).send(invitation);
      },
    );

    app.get(
      '/courses/:id/invitations',
      {
        config: { access: enroll },
        schema: { tags, summary: 'The course’s invitations', description: 'Course teachers and administrators. Filter by `status`.', params: IdParams, querystring: InvitationQuery, response: { 200: Page(Type.Ref(Invitation)) } },
      },
      async (request) => invitations.list(requirePrincipal(request), request.params.id, request.query),
    );

    app.delete(
      '/courses/:id/invitations/:invitationId',
      {
        config: { access: enroll },
        schema: {
          tags,
          summary: 'Revoke an invitation',
          description: 'Course teachers and administrators. Idempotent for one already revoked, declined or expired; 409 LEARNING_INVITATION_STATE once accepted.',
          params: InvitationParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        await invitations.revoke(requirePrincipal(request), request.params.id, request.params.invitationId);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/me/course-invitations',
      {
        config: { access: enroll },
        schema: { tags, summary: 'My open course invitations', description: 'Pending and not expired, oldest first.', querystring: PageQuery, response: { 200: Page(Type.Ref(Invitation)) } },
      },
      async (request) => invitations.mine(requirePrincipal(request), request.query),
    );

    app.post(
      '/me/course-invitations/:id/accept',
      {
        config: { access: enroll },
        schema: {
          tags,
          summary: 'Accept an invitation',
          description:
            'Only your own (404 otherwise). Enrolls you at once: the course must be published and its enrollment window open; capacity is enforced (409 LEARNING_COURSE_FULL). 409 LEARNING_INVITATION_EXPIRED / LEARNING_INVITATION_STATE.',
          params: IdParams,
          response: { 201: Type.Ref(Enrollment) },
        },
      },
      async (request, reply) => {
        const enrollment = await invitations.accept(requirePrincipal(request), request.params.id);
        setEtag(reply, enrollment.version);
        return reply.code(201).header('location', `/api/v1/courses/${enrollment.courseId}/enrollments/${enrollment.userId}`).send(enrollment);
      },
    );

    app.post(
      '/me/course-invitations/:id/decline',
      {
        config: { access: enroll },
        schema: { tags, summary: 'Decline an invitation', description: 'Only your own (404 otherwise).', params: IdParams, response: { 200: Type.Ref(Invitation) } },
      },
      async (request) => invitations.decline(requirePrincipal(request), request.params.id),
    );
  };
}

import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import type { AppInstance } from '../../core/module.js';
import type { Announcements } from './announcements.service.js';
import { Announcement, AnnouncementCreate, AnnouncementParams, CourseParams } from './notifications.schemas.js';

const tags = ['notifications'];

/** Course announcements: staff of the course (or an admin) write; members read and are notified. */
export function announcementRoutes(announcements: Announcements) {
  return async (app: AppInstance) => {
    app.addSchema(Announcement);
    app.post(
      '/courses/:id/announcements',
      {
        config: { access: 'session' },
        schema: {
          tags,
          summary: 'Announce something to everyone in a course',
          description: 'The course’s teachers or an admin. Every member (students and staff, not the author) gets an `announcement` notification, fanned out by background jobs in batches, then emailed and pushed per their preferences.',
          params: CourseParams,
          body: AnnouncementCreate,
          response: { 201: Type.Ref(Announcement) },
        },
      },
      async (request, reply) => {
        const created = await announcements.create(requirePrincipal(request), request.params.id, request.body);
        return reply.code(201).header('location', `/api/v1/courses/${created.courseId}/announcements/${created.id}`).send(created);
      },
    );
    app.get(
      '/courses/:id/announcements/:announcementId',
      { config: { access: 'authenticated' }, schema: { tags, summary: 'Read a course announcement', description: 'Members and staff of the course, and admins.', params: AnnouncementParams, response: { 200: Type.Ref(Announcement) } } },
      async (request) => announcements.get(requirePrincipal(request), request.params.id, request.params.announcementId),
    );
  };
}

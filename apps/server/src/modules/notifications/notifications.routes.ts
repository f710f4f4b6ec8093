import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { setEtag } from '../../core/http/etag.js';
import { Page } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import type { NotificationsService } from './notifications.service.js';
import { IdParams, Notification, NotificationListQuery, ReadBody, ReadResult, UnreadCount } from './notifications.schemas.js';

const tags = ['notifications'];

/** The caller's inbox. Every route acts on the caller's own entries only. */
export function notificationRoutes(service: NotificationsService) {
  return async (app: AppInstance) => {
    app.addSchema(Notification);
    app.addSchema(UnreadCount);
    app.addSchema(ReadResult);

    app.get(
      '/notifications',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: "List the caller's notifications, newest activity first",
          description: 'Similar unread notifications are grouped into one entry (`count`, grouped `title`). Keyset pagination.',
          querystring: NotificationListQuery,
          response: { 200: Page(Type.Ref(Notification)) },
        },
      },
      async (request) => service.list(requirePrincipal(request).userId, request.query),
    );

    app.get(
      '/notifications/unread-count',
      { config: { access: 'authenticated' }, schema: { tags, summary: 'Count unread notifications', response: { 200: Type.Ref(UnreadCount) } } },
      async (request) => service.unreadCount(requirePrincipal(request).userId),
    );

    app.get(
      '/notifications/:id',
      { config: { access: 'authenticated' }, schema: { tags, summary: 'Read one notification', params: IdParams, response: { 200: Type.Ref(Notification) } } },
      async (request, reply) => {
        const view = await service.get(requirePrincipal(request).userId, request.params.id);
        setEtag(reply, view.version);
        return view;
      },
    );

    app.post(
      '/notifications/read',
      {
        config: { access: 'session' },
        schema: {
          tags,
          summary: 'Mark notifications read',
          description: 'Body `{ "ids": [...] }` for some, or `{ "all": true }` for every one. Ids of entries that are not the caller’s are ignored. Answers how many changed.',
          body: ReadBody,
          response: { 200: Type.Ref(ReadResult) },
        },
      },
      async (request) => service.markRead(requirePrincipal(request).userId, request.body),
    );

    app.delete(
      '/notifications/:id',
      { config: { access: 'session' }, schema: { tags, summary: 'Delete a notification', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await service.remove(requirePrincipal(request).userId, request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}

import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import type { AppInstance } from '../../core/module.js';
import { IdParams, PushSubscription, PushSubscriptionCreate, VapidPublicKey } from './notifications.schemas.js';
import type { Push } from './push.service.js';

const tags = ['notifications'];

/** Web push: the server's VAPID key, and the caller's device subscriptions. */
export function pushRoutes(push: Push) {
  return async (app: AppInstance) => {
    app.addSchema(PushSubscription);
    app.addSchema(VapidPublicKey);

    app.get(
      '/push/vapid-public-key',
      { config: { access: 'public' }, schema: { tags, summary: "The server's VAPID public key", description: 'Pass it as `applicationServerKey` to `pushManager.subscribe()`.', response: { 200: Type.Ref(VapidPublicKey) } } },
      async () => push.vapidPublicKey(),
    );

    app.post(
      '/push/subscriptions',
      {
        config: { access: 'session' },
        schema: {
          tags,
          summary: 'Register this device for web push',
          description: 'Send the browser’s `PushSubscription.toJSON()`. An endpoint already registered is updated (and moves to the caller). Notifications are then pushed to this device, per the caller’s preferences.',
          body: PushSubscriptionCreate,
          response: { 201: Type.Ref(PushSubscription) },
        },
      },
      async (request, reply) => {
        const created = await push.subscribe(requirePrincipal(request).userId, request.body);
        return reply.code(201).header('location', `/api/v1/push/subscriptions/${created.id}`).send(created);
      },
    );

    app.delete(
      '/push/subscriptions/:id',
      { config: { access: 'session' }, schema: { tags, summary: 'Stop web push to a device', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await push.unsubscribe(requirePrincipal(request).userId, request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}

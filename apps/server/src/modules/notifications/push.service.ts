import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { JobContext } from '../../core/jobs/types.js';
import type { WebPushTransport } from '../../core/push/web-push.js';
import { PermanentDeliveryError, type Channels } from './channels.service.js';
import type { Content } from './email-templates.js';
import { NotificationsErrors } from './notifications.errors.js';
import { channelsRepo } from './notifications.repo.js';
import type { PushSubscriptionCreate, PushSubscriptionView } from './notifications.schemas.js';
import type { PushSubscriptionRow } from './notifications.tables.js';

export const PUSH_JOB = 'notifications.push';

export interface PushDeps {
  db: Db;
  clock: Clock;
  channels: Channels;
  transport: WebPushTransport;
  publicUrl: string;
  /** Plain-http push endpoints are accepted only outside production (local test push services). */
  allowInsecureEndpoints: boolean;
  /** The push services' hosts (`*.` for any subdomain): the server POSTs to subscriptions, so nowhere else. */
  allowedHosts: string[];
}

const hostAllowed = (allowed: string[], host: string) => allowed.some((pattern) => (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern));

/** The Web Push `Topic` of a delivery: its id (`dlv_` + 26 ULID characters, all URL-safe base64, 30 in all). */
export const pushTopic = (deliveryId: string) => deliveryId;

const view = (row: PushSubscriptionRow): PushSubscriptionView => ({ id: row.id, endpoint: row.endpoint, createdAt: row.created_at, lastSuccessAt: row.last_success_at });

/** Web push: devices subscribe, and notifications are pushed to every device of their user. */
export function createPush(deps: PushDeps) {
  const { db, clock, channels, transport, publicUrl, allowInsecureEndpoints, allowedHosts } = deps;
  const iso = () => clock.now().toISOString();

  channels.addChannel('push', (tx, userIds) => channelsRepo(tx).usersWithSubscription(userIds));

  return {
    vapidPublicKey: () => ({ publicKey: transport.publicKey }),

    async subscribe(userId: string, input: PushSubscriptionCreate): Promise<PushSubscriptionView> {
      let url: URL;
      try {
        url = new URL(input.endpoint);
      } catch {
        throw new AppError(422, NotificationsErrors.NOTIFICATIONS_PUSH_ENDPOINT_INVALID, 'The endpoint is not a URL.');
      }
      if (url.protocol !== 'https:' && !(allowInsecureEndpoints && url.protocol === 'http:')) {
        throw new AppError(422, NotificationsErrors.NOTIFICATIONS_PUSH_ENDPOINT_INVALID, 'A push endpoint must be an https URL.', { errors: [{ path: '/body/endpoint', message: 'must be https' }] });
      }
      if (!hostAllowed(allowedHosts, url.hostname)) {
        throw new AppError(422, NotificationsErrors.NOTIFICATIONS_PUSH_ENDPOINT_INVALID, 'The endpoint is not on a known push service.', { errors: [{ path: '/body/endpoint', message: 'host not in PUSH_ENDPOINT_HOSTS' }] });
      }
      const p256dh = Buffer.from(input.keys.p256dh, 'base64url');
      if (p256dh.length !== 65 || p256dh[0] !== 4 || Buffer.from(input.keys.auth, 'base64url').length < 16) {
        throw new AppError(422, NotificationsErrors.NOTIFICATIONS_PUSH_KEYS_INVALID, 'keys.p256dh must be an uncompressed P-256 public key and keys.auth a 16-byte secret (base64url).', { errors: [{ path: '/body/keys', message: 'invalid keys' }] });
      }
      return withTransaction(db, async (tx) =>
        view(await channelsRepo(tx).upsertSubscription({ id: newId('psub'), user_id: userId, endpoint: input.endpoint, p256dh: input.keys.p256dh, auth: input.keys.auth, created_at: iso(), last_success_at: null })),
      );
    },

    async unsubscribe(userId: string, id: string): Promise<void> {
      if (!(await channelsRepo(db).deleteSubscription(userId, id))) throw new AppError(404, NotificationsErrors.NOTIFICATIONS_PUSH_SUBSCRIPTION_NOT_FOUND, 'No such push subscription.');
    },

    /**
     * Pushes one delivery to every device of its user; gone devices (404, 410) are removed. Each
     * device that accepted it is recorded at once, so a retry (after a crash, or because another
     * device failed) skips it; the `Topic` header makes the push service replace, not add, a copy
     * still pending from an attempt whose record was lost.
     */
    async sendPush(job: JobContext<{ deliveryId: string }>): Promise<void> {
      await channels.runDelivery(
        job,
        async (delivery) => {
          const subscriptions = await channelsRepo(db).subscriptionsOf(delivery.user_id);
          if (!subscriptions.length) throw new PermanentDeliveryError('no-subscription', 'The user has no push subscription.');
          const already = await channelsRepo(db).sentTargets(delivery.id);
          const content = JSON.parse(delivery.content) as Content;
          const payload = JSON.stringify({
            id: delivery.notification_id,
            category: delivery.category,
            title: content.title.slice(0, 200),
            body: content.body.slice(0, 1000),
            url: `${publicUrl}${content.link}`,
          });
          const gone: string[] = [];
          const delivered = subscriptions.filter((s) => already.has(s.id)).map((s) => s.id);
          const failures: string[] = [];
          for (const subscription of subscriptions.filter((s) => !already.has(s.id))) {
            try {
              const { statusCode } = await transport.send({ endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } }, payload, {
                urgency: delivery.category === 'security' ? 'high' : 'normal',
                topic: pushTopic(delivery.id),
              });
              if (statusCode === 404 || statusCode === 410) gone.push(subscription.id);
              else if (statusCode >= 200 && statusCode < 300) {
                await channelsRepo(db).recordSend(delivery.id, subscription.id, null, iso());
                delivered.push(subscription.id);
              } else failures.push(`push service answered ${statusCode}`);
            } catch (err) {
              failures.push(err instanceof Error ? err.message : String(err));
            }
          }
          await withTransaction(db, async (tx) => {
            await channelsRepo(tx).deleteSubscriptions(gone);
            await channelsRepo(tx).markPushed(delivered, iso());
          });
          // Retried (with backoff) only when no device got it and some might on a later try.
          if (!delivered.length && failures.length) throw new Error(failures[0]);
          if (!delivered.length) throw new PermanentDeliveryError('subscriptions-gone', 'Every push subscription of the user has expired.');
        },
        async () => {},
      );
    },
  };
}

export type Push = ReturnType<typeof createPush>;

import webpush from 'web-push';
import type { SecretStore } from '../secrets.js';

/** A browser's push subscription (the `PushSubscription.toJSON()` of the Push API). */
export interface PushTarget {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface PushResult {
  /** The push service's answer; 404 and 410 mean the subscription is gone for good. */
  statusCode: number;
}

export interface WebPushTransport {
  /** The VAPID public key (base64url), for `pushManager.subscribe({ applicationServerKey })`. */
  publicKey: string;
  /** Encrypts `payload` for the subscription (RFC 8291, aes128gcm), signs with VAPID, and posts it. */
  send(
    target: PushTarget,
    payload: string,
    options?: {
      ttlSeconds?: number;
      urgency?: 'very-low' | 'low' | 'normal' | 'high';
      timeoutMs?: number;
      /** RFC 8030 §5.4: a message still pending with the same topic is replaced (≤ 32 URL-safe base64 characters). */
      topic?: string;
    },
  ): Promise<PushResult>;
}

/**
 * Web push over the standard protocol (RFC 8030/8291/8292) with `web-push` doing the encryption and
 * VAPID signing. The VAPID key pair is generated once and kept in the secret store, so every node
 * and every restart uses the same one (subscriptions are bound to it).
 */
export async function createWebPush({ secrets, subject }: { secrets: SecretStore; subject: string }): Promise<WebPushTransport> {
  const keys = JSON.parse(await secrets.getOrCreate('push-vapid-keys', () => JSON.stringify(webpush.generateVAPIDKeys()))) as { publicKey: string; privateKey: string };
  return {
    publicKey: keys.publicKey,
    async send(target, payload, options = {}) {
      const details = webpush.generateRequestDetails({ endpoint: target.endpoint, keys: target.keys }, payload, {
        vapidDetails: { subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
        TTL: options.ttlSeconds ?? 24 * 3600,
        urgency: options.urgency ?? 'normal',
        contentEncoding: 'aes128gcm',
        ...(options.topic ? { topic: options.topic } : {}),
      });
      // Posted with fetch rather than web-push's own https-only client, with a timeout.
      const response = await fetch(details.endpoint, {
        method: details.method,
        headers: details.headers as Record<string, string>,
        body: details.body ?? undefined,
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
        redirect: 'error',
      });
      await response.arrayBuffer().catch(() => undefined);
      return { statusCode: response.status };
    },
  };
}

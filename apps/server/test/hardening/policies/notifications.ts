import { createECDH, randomBytes } from 'node:crypto';
import type { ModulePolicy } from '../access-policy.js';
import type { NotificationsModule } from '../../../src/modules/notifications/index.js';

const anyCaller = ['studentA', 'studentB', 'teacherOwner', 'teacherOther', 'admin', 'scopedKey'] as const;
const signedIn = ['studentA', 'studentB', 'teacherOwner', 'teacherOther', 'admin'] as const;

/** A browser's push subscription (a fresh P-256 key and auth secret). */
function subscription(endpoint: string) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
}

/** The notifications module's rows of the authorization matrix (see access-policy.ts). */
export const notificationsPolicy: ModulePolicy = {
  async setup({ t, users, call, ids }) {
    const notifications = t.modules.find((m) => m.name === 'notifications') as NotificationsModule;
    const entry = (sourceKey: string) => ({
      userId: users.studentA.userId,
      category: 'follow' as const,
      type: 'community.follow.created',
      title: 'Someone started following you',
      body: '',
      link: `/users/${users.studentB.userId}`,
      entity: { type: 'user', id: users.studentB.userId },
      actorId: users.studentB.userId,
      sourceKey,
      sourceSeq: 0,
    });
    const [kept, doomed] = await notifications.service.deliver([entry('matrix-kept'), entry('matrix-doomed')]);
    const device = await call('studentA', 'POST', '/push/subscriptions', subscription('https://fcm.googleapis.com/fcm/send/matrix-fixture'));
    const announcement = await call('teacherOwner', 'POST', `/courses/${ids.course}/announcements`, { title: 'Fixture', body: 'An announcement to read' });
    return { notificationOfA: kept!.id, doomedNotificationOfA: doomed!.id, pushSubscriptionOfA: device.id, announcement: announcement.id };
  },
  rules: {
    'GET /api/v1/notifications': { allow: anyCaller },
    'GET /api/v1/notifications/unread-count': { allow: anyCaller },
    'GET /api/v1/notifications/{id}': { allow: ['studentA', 'scopedKey'], params: (f) => ({ id: f.ids.notificationOfA! }) },
    // Ids that are not the caller's are ignored: everyone gets through and changes only their own.
    'POST /api/v1/notifications/read': { allow: signedIn, body: (f) => ({ ids: [f.ids.notificationOfA!] }) },
    'DELETE /api/v1/notifications/{id}': { allow: ['studentA'], params: (f) => ({ id: f.ids.doomedNotificationOfA! }) },
    'GET /api/v1/notifications/preferences': { allow: anyCaller },
    'PUT /api/v1/notifications/preferences': { allow: signedIn, body: () => ({ muted: false, categories: { reaction: { email: true } } }) },
    // Public by design (RFC 8058): the signed token in the query is the authorization.
    'POST /api/v1/notifications/unsubscribe': { allow: 'everyone' },
    'GET /api/v1/push/vapid-public-key': { allow: 'everyone' },
    'POST /api/v1/push/subscriptions': { allow: signedIn, body: () => subscription('https://fcm.googleapis.com/fcm/send/matrix') },
    // Fixtures of the learning policy: `course` is teacherOwner's, with studentA enrolled.
    'POST /api/v1/courses/{id}/announcements': { allow: ['teacherOwner', 'admin'], params: (f) => ({ id: f.ids.course! }), body: (_f, actor) => ({ title: `From ${actor}`, body: 'Matrix announcement' }) },
    'GET /api/v1/courses/{id}/announcements/{announcementId}': { allow: ['studentA', 'teacherOwner', 'admin', 'scopedKey'], params: (f) => ({ id: f.ids.course!, announcementId: f.ids.announcement! }) },
    'DELETE /api/v1/push/subscriptions/{id}': { allow: ['studentA'], params: (f) => ({ id: f.ids.pushSubscriptionOfA! }) },
    // The caller's own SMS number. The matrix runs without an SMS provider: a taken number answers 409
    // NOTIFICATIONS_SMS_DISABLED, a code 409 NOTIFICATIONS_SMS_NOT_PENDING (business answers, not refusals).
    'GET /api/v1/notifications/sms': { allow: anyCaller },
    'PUT /api/v1/notifications/sms': { allow: signedIn, body: () => ({ phone: '+33612345678' }) },
    'POST /api/v1/notifications/sms/verify': { allow: signedIn, body: () => ({ code: '123456' }) },
    'DELETE /api/v1/notifications/sms': { allow: signedIn },
  },
};

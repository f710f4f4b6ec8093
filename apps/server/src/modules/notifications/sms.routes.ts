import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import type { AppInstance } from '../../core/module.js';
import { SmsNumber, SmsNumberSet, SmsVerify } from './notifications.schemas.js';
import type { Sms } from './sms.service.js';

const tags = ['notifications'];

/** The caller's SMS number: set it (a code is sent to it), confirm it with the code, read it masked, remove it. */
export function smsRoutes(sms: Sms) {
  return async (app: AppInstance) => {
    app.addSchema(SmsNumber);

    app.get(
      '/notifications/sms',
      {
        config: { access: 'authenticated' },
        schema: { tags, summary: "The caller's SMS number, masked", description: 'The verified number notifications go to, and a number waiting for its code.', response: { 200: Type.Ref(SmsNumber) } },
      },
      async (request) => sms.number(requirePrincipal(request).userId),
    );

    app.put(
      '/notifications/sms',
      {
        config: { access: 'session' },
        schema: {
          tags,
          summary: 'Set the number SMS notifications go to',
          description:
            'Sends a 6-digit code to the number (202); the number is used once the code is confirmed with `POST /notifications/sms/verify`, and until then the verified number, if any, stays. One code a minute, 5 a day per account and per number (429 with `Retry-After`). The verified number again: 200, nothing sent. 409 `NOTIFICATIONS_SMS_DISABLED` when the server has no SMS provider.',
          body: SmsNumberSet,
          response: { 200: Type.Ref(SmsNumber), 202: Type.Ref(SmsNumber) },
        },
      },
      async (request, reply) => {
        const { view, sent } = await sms.requestCode(requirePrincipal(request).userId, request.body.phone);
        return reply.code(sent ? 202 : 200).send(view);
      },
    );

    app.post(
      '/notifications/sms/verify',
      {
        config: { access: 'session' },
        schema: {
          tags,
          summary: 'Confirm the number with the code it received',
          description: 'A code works for 10 minutes and 5 tries (422 `NOTIFICATIONS_SMS_CODE_INVALID`, then `NOTIFICATIONS_SMS_CODE_EXPIRED`). The number then replaces the verified one.',
          body: SmsVerify,
          response: { 200: Type.Ref(SmsNumber) },
        },
      },
      async (request) => sms.verify(requirePrincipal(request).userId, request.body.code),
    );

    app.delete(
      '/notifications/sms',
      { config: { access: 'session' }, schema: { tags, summary: 'Remove the SMS number', description: 'Verified and pending alike; nothing more is sent by SMS. 204 also when there was none.', response: { 204: Type.Null() } } },
      async (request, reply) => {
        await sms.remove(requirePrincipal(request).userId);
        return reply.code(204).send(null);
      },
    );
  };
}

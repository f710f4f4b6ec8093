import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { expectedVersion, setEtag } from '../../core/http/etag.js';
import type { AppInstance } from '../../core/module.js';
import type { Channels } from './channels.service.js';
import { Preferences, PreferencesUpdate, Unsubscribed, UnsubscribeQuery } from './notifications.schemas.js';

const tags = ['notifications'];

/** The caller's notification preferences, and the public one-click unsubscribe of emails. */
export function preferenceRoutes(channels: Channels) {
  return async (app: AppInstance) => {
    app.addSchema(Preferences);
    app.addSchema(Unsubscribed);

    app.get(
      '/notifications/preferences',
      {
        config: { access: 'authenticated' },
        schema: { tags, summary: "Read the caller's notification preferences", description: 'Defaults until the user changes something (`version` 0).', response: { 200: Type.Ref(Preferences) } },
      },
      async (request, reply) => {
        const view = await channels.preferences(requirePrincipal(request).userId);
        setEtag(reply, view.version);
        return view;
      },
    );

    app.put(
      '/notifications/preferences',
      {
        config: { access: 'session' },
        schema: {
          tags,
          summary: "Change the caller's notification preferences",
          description: 'Per category and channel (`inApp`, `email`, `push`, `sms`), a global mute, quiet hours in an IANA time zone. Fields left out keep their value; `security` stays on. Send `If-Match` with the ETag to avoid overwriting a change made elsewhere (412).',
          body: PreferencesUpdate,
          response: { 200: Type.Ref(Preferences) },
        },
      },
      async (request, reply) => {
        const view = await channels.updatePreferences(requirePrincipal(request).userId, expectedVersion(request), request.body);
        setEtag(reply, view.version);
        return view;
      },
    );

    await app.register(async (scope) => {
      // RFC 8058: mail clients POST `List-Unsubscribe=One-Click` as a form; only this route reads forms.
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_request, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      });
      scope.post(
        '/notifications/unsubscribe',
        {
          config: { access: 'public' },
          schema: {
            tags,
            summary: 'One-click unsubscribe from a category of emails, or from a digest',
            description: 'The target of the `List-Unsubscribe` header (RFC 8058): the signed token `t` names the user and what to unsubscribe from. A category: email for it is switched off. A digest: that digest is switched off, and so is email for the categories it gathered (so they do not come one by one instead). Any body (`List-Unsubscribe=One-Click`) is accepted and ignored.',
            querystring: UnsubscribeQuery,
            response: { 200: Type.Ref(Unsubscribed) },
          },
        },
        async (request) => channels.unsubscribe((request.query as { t: string }).t),
      );
    });
  };
}

import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../../core/module.js';
import { AUTH_BODY_LIMIT, MfaChallenge, clientOf, ignoreIdempotencyKey, sendTokens, type IdentityRouteDeps } from './identity.routes.js';
import { RefreshTransport, Tokens } from './identity.schemas.js';
import { userView } from './identity.service.js';
import type { Oidc } from './oidc.service.js';

const tags = ['auth'];
const ProviderParams = Type.Object({ provider: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' }) }, { additionalProperties: false });
const Redirect = { 302: Type.Null({ description: 'Redirect; see the Location header.' }) };

export function oidcRoutes(oidc: Oidc, deps: Pick<IdentityRouteDeps, 'now' | 'accessTokenTtl' | 'rateLimit'>) {
  const strict = { rateLimit: deps.rateLimit };
  return async (app: AppInstance) => {
    app.get(
      '/auth/oidc/providers',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'List the single sign-on providers',
          response: { 200: Type.Object({ items: Type.Array(Type.Object({ name: Type.String(), displayName: Type.String() }, { additionalProperties: false })) }, { additionalProperties: false }) },
        },
      },
      async () => ({ items: oidc.providers() }),
    );

    app.get(
      '/auth/oidc/:provider/authorize',
      {
        config: { access: 'public', ...strict },
        schema: {
          tags,
          summary: 'Start single sign-on: redirects to the provider',
          description: 'Open in the browser (or an in-app browser tab). `redirectUri` must be listed in AUTH_OIDC_REDIRECT_URIS; the sign-in ends there with `?code=` (exchange it at POST /auth/oidc/exchange) or `?error=`.',
          params: ProviderParams,
          querystring: Type.Object({ redirectUri: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
          response: Redirect,
        },
      },
      async (request, reply) => {
        const target = await oidc.authorizationUrl(request.params.provider, request.query.redirectUri);
        return reply.header('cache-control', 'no-store').redirect(target, 302);
      },
    );

    app.get(
      '/auth/oidc/:provider/callback',
      {
        config: { access: 'public', ...strict },
        schema: {
          tags,
          summary: 'Where the provider sends the browser back',
          description: 'Not called by apps. Finishes the code exchange with the provider and redirects to the app with a one-time code.',
          params: ProviderParams,
          querystring: Type.Object(
            { state: Type.String({ maxLength: 200 }), code: Type.Optional(Type.String({ maxLength: 4000 })), error: Type.Optional(Type.String({ maxLength: 200 })), error_description: Type.Optional(Type.String({ maxLength: 2000 })), iss: Type.Optional(Type.String({ maxLength: 2000 })), session_state: Type.Optional(Type.String({ maxLength: 2000 })) },
            { additionalProperties: false },
          ),
          response: Redirect,
        },
      },
      async (request, reply) => {
        const current = new URL(request.url, 'http://callback.invalid');
        const { redirectTo } = await oidc.callback(request.params.provider, current, clientOf(request));
        return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(redirectTo, 302);
      },
    );

    app.post(
      '/auth/oidc/exchange',
      {
        onRequest: ignoreIdempotencyKey,
        config: { access: 'public', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Trade the one-time single sign-on code for tokens',
          description: 'The code works once, within a minute. Answers like POST /auth/login: tokens, or an MFA challenge when the account has a second factor.',
          body: Type.Object(
            { code: Type.String({ minLength: 10, maxLength: 200 }), device: Type.Optional(Type.String({ maxLength: 200 })), refreshTransport: Type.Optional(RefreshTransport) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Union([Type.Ref(Tokens), MfaChallenge]) },
        },
      },
      async (request, reply) => {
        const result = await oidc.exchange(request.body.code, { device: request.body.device }, clientOf(request));
        if (result.kind === 'mfa') return { mfaRequired: true as const, challenge: result.challenge, methods: result.methods, expiresAt: result.expiresAt.toISOString() };
        return sendTokens(reply, result.tokens, request.body.refreshTransport, deps, { user: userView(result.user) });
      },
    );
  };
}

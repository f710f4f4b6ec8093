import { Type } from '@sinclair/typebox';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { AppInstance } from '../../core/module.js';
import { AUTH_BODY_LIMIT, clientOf, ignoreIdempotencyKey, sendTokens, type IdentityRouteDeps, requireSession } from './identity.routes.js';
import { IdParams, RefreshTransport, Tokens } from './identity.schemas.js';
import { userView } from './identity.service.js';
import type { Passkeys } from './passkeys.service.js';

const tags = ['passkeys'];
const B64 = Type.String({ minLength: 1, maxLength: 8192, pattern: '^[A-Za-z0-9_-]*={0,2}$' });
/** The WebAuthn JSON a browser's navigator.credentials (or @simplewebauthn/browser) produces. */
const credentialFields = {
  id: Type.String({ minLength: 1, maxLength: 1024 }),
  rawId: Type.String({ minLength: 1, maxLength: 1024 }),
  type: Type.Literal('public-key'),
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  clientExtensionResults: Type.Object({}, { additionalProperties: true }),
};
const RegistrationResponse = Type.Object(
  {
    ...credentialFields,
    response: Type.Object(
      { clientDataJSON: B64, attestationObject: B64, transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })) },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: false },
);
const AuthenticationResponse = Type.Object(
  {
    ...credentialFields,
    response: Type.Object({ clientDataJSON: B64, authenticatorData: B64, signature: B64, userHandle: Type.Optional(B64) }, { additionalProperties: true }),
  },
  { additionalProperties: false },
);
const Passkey = Type.Object(
  { id: Type.String(), name: Type.String(), deviceType: Type.String(), backedUp: Type.Boolean(), createdAt: Type.String({ format: 'date-time' }), lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]) },
  { $id: 'IdentityPasskey', additionalProperties: false },
);
const Options = Type.Object({ challenge: Type.String() }, { additionalProperties: true, description: 'Pass to navigator.credentials as publicKey (after decoding base64url fields), or to @simplewebauthn/browser.' });

export function passkeyRoutes(passkeys: Passkeys, deps: Pick<IdentityRouteDeps, 'now' | 'accessTokenTtl' | 'rateLimit'>) {
  const strict = { rateLimit: deps.rateLimit };
  return async (app: AppInstance) => {
    app.addSchema(Passkey);

    app.post(
      '/auth/passkeys/register/options',
      { config: { access: 'session', freshSecondFactor: true, ...strict }, schema: { tags, summary: 'Start registering a passkey', response: { 200: Options } } },
      async (request) => passkeys.registrationOptions(requireSession(request).userId),
    );

    app.post(
      '/auth/passkeys/register',
      {
        config: { access: 'session', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: { tags, summary: 'Finish registering a passkey', body: Type.Object({ response: RegistrationResponse, name: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }), response: { 201: Type.Ref(Passkey) } },
      },
      async (request, reply) => {
        const passkey = await passkeys.register(requireSession(request).userId, request.body.response as unknown as RegistrationResponseJSON, request.body.name, clientOf(request));
        return reply.code(201).header('location', `/api/v1/auth/passkeys/${passkey.id}`).send(passkey);
      },
    );

    app.post(
      '/auth/passkeys/login/options',
      { config: { access: 'public', ...strict }, schema: { tags, summary: 'Start signing in with a passkey', description: 'Discoverable credentials: no email needed.', response: { 200: Options } } },
      async () => passkeys.loginOptions(),
    );

    app.post(
      '/auth/passkeys/login',
      {
        onRequest: ignoreIdempotencyKey,
        config: { access: 'public', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Sign in with a passkey',
          description: 'Counts as two factors; no TOTP challenge follows.',
          body: Type.Object({ response: AuthenticationResponse, device: Type.Optional(Type.String({ maxLength: 100 })), refreshTransport: Type.Optional(RefreshTransport) }, { additionalProperties: false }),
          response: { 200: Type.Ref(Tokens) },
        },
      },
      async (request, reply) => {
        const result = await passkeys.login(request.body.response as unknown as AuthenticationResponseJSON, clientOf(request), { device: request.body.device });
        if (result.kind !== 'tokens') throw new Error('a passkey login always yields tokens');
        return sendTokens(reply, result.tokens, request.body.refreshTransport, deps, { user: userView(result.user) });
      },
    );

    app.get(
      '/auth/passkeys',
      { config: { access: 'session' }, schema: { tags, summary: "List the caller's passkeys", response: { 200: Type.Object({ items: Type.Array(Type.Ref(Passkey)) }, { additionalProperties: false }) } } },
      async (request) => ({ items: await passkeys.list(requireSession(request).userId) }),
    );

    app.delete(
      '/auth/passkeys/:id',
      { config: { access: 'session', freshSecondFactor: true }, schema: { tags, summary: 'Remove a passkey', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await passkeys.remove(requireSession(request).userId, request.params.id, clientOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}

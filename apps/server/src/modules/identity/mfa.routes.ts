import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../../core/module.js';
import { AUTH_BODY_LIMIT, clientOf, ignoreIdempotencyKey, sendTokens, type IdentityRouteDeps, requireSession } from './identity.routes.js';
import { RefreshTransport, Tokens } from './identity.schemas.js';
import { userView } from './identity.service.js';
import type { Mfa } from './mfa.service.js';
import { sha256 } from './secrets-util.js';

const tags = ['auth'];
const Code = Type.String({ minLength: 6, maxLength: 20, description: 'A 6-digit TOTP code, or a recovery code.' });
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const RecoveryCodes = Type.Object({ recoveryCodes: Type.Array(Type.String(), { description: 'Ten single-use codes, shown this once.' }) }, { additionalProperties: false });

export function mfaRoutes(mfa: Mfa, deps: Pick<IdentityRouteDeps, 'now' | 'accessTokenTtl' | 'rateLimit'>) {
  const strict = { rateLimit: deps.rateLimit };
  return async (app: AppInstance) => {
    app.post(
      '/auth/mfa/totp/setup',
      {
        onRequest: ignoreIdempotencyKey,
        config: { access: 'session', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Start TOTP enrolment',
          description: 'Needs the password. Returns the secret and an otpauth:// URI to show as a QR code; confirm with a first code.',
          body: Type.Object({ password: Password }, { additionalProperties: false }),
          response: { 200: Type.Object({ secret: Type.String(), otpauthUri: Type.String() }, { additionalProperties: false }) },
        },
      },
      async (request, reply) => {
        reply.header('cache-control', 'no-store');
        return mfa.setup(requireSession(request).userId, request.body.password);
      },
    );

    app.post(
      '/auth/mfa/totp/confirm',
      {
        onRequest: ignoreIdempotencyKey,
        config: { access: 'session', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: { tags, summary: 'Finish TOTP enrolment with a first code', body: Type.Object({ code: Code }, { additionalProperties: false }), response: { 200: RecoveryCodes } },
      },
      async (request, reply) => {
        reply.header('cache-control', 'no-store');
        return mfa.confirm(requireSession(request).userId, request.body.code, clientOf(request));
      },
    );

    app.post(
      '/auth/mfa/totp/disable',
      {
        config: { access: 'session', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: { tags, summary: 'Turn TOTP off', description: 'Needs the password and a current code (or a recovery code).', body: Type.Object({ password: Password, code: Code }, { additionalProperties: false }), response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        await mfa.disable(requireSession(request).userId, request.body, clientOf(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/auth/mfa/totp/recovery-codes',
      {
        onRequest: ignoreIdempotencyKey,
        config: { access: 'session', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: { tags, summary: 'Replace the recovery codes', description: 'Needs a current code; the old recovery codes stop working.', body: Type.Object({ code: Code }, { additionalProperties: false }), response: { 200: RecoveryCodes } },
      },
      async (request, reply) => {
        reply.header('cache-control', 'no-store');
        return mfa.regenerateRecoveryCodes(requireSession(request).userId, request.body.code);
      },
    );

    app.post(
      '/auth/mfa/step-up',
      {
        config: {
          access: 'session',
          // Five codes per 15 minutes per credential: a stolen access token cannot guess its way to a fresh second factor.
          rateLimit: { max: 5, timeWindow: 15 * 60_000, keyGenerator: (request) => `step-up:${sha256(String(request.headers.authorization))}` },
        },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Confirm the second factor again before a sensitive action',
          description: 'Marks the session as having passed its second factor now; sensitive routes (marked x-fresh-second-factor) accept it for AUTH_STEP_UP_SECONDS.',
          body: Type.Object({ code: Code }, { additionalProperties: false }),
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        const session = requireSession(request);
        await mfa.stepUp(session.userId, session.sessionId, request.body.code, clientOf(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/auth/mfa/totp/verify',
      {
        onRequest: ignoreIdempotencyKey,
        config: { access: 'public', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Second step of sign-in: the challenge and a code',
          description: 'The challenge comes from POST /auth/login; it lasts 5 minutes, works once, and five wrong codes spend it.',
          body: Type.Object({ challenge: Type.String({ minLength: 10, maxLength: 200 }), code: Code, refreshTransport: Type.Optional(RefreshTransport) }, { additionalProperties: false }),
          response: { 200: Type.Ref(Tokens) },
        },
      },
      async (request, reply) => {
        const result = await mfa.completeLogin(request.body.challenge, request.body.code, clientOf(request));
        if (result.kind !== 'tokens') throw new Error('a completed MFA login always yields tokens');
        return sendTokens(reply, result.tokens, request.body.refreshTransport, deps, { user: userView(result.user, true) });
      },
    );
  };
}

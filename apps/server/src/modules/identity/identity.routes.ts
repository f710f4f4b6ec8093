import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requirePrincipal, type Principal } from '../../core/http/access.js';
import { expectedVersion, setEtag } from '../../core/http/etag.js';
import { Page, PageQuery } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import type { AppInstance } from '../../core/module.js';
import type { ClientInfo } from './audit.js';
import { IdentityErrors, refreshInvalid } from './identity.errors.js';
import {
  Accepted,
  ChangeEmailBody,
  ChangePasswordBody,
  EmailBody,
  IdParams,
  Jwks,
  LoginBody,
  MePatch,
  RefreshBody,
  RegisterBody,
  ResendBody,
  ResetBody,
  Session,
  TokenBody,
  Tokens,
  User,
  type TokensView,
} from './identity.schemas.js';
import { userView, type IdentityService, type LoginResult } from './identity.service.js';
import type { IssuedTokens } from './sessions.js';
import type { SigningKeyRing } from './signing-keys.js';

export const REFRESH_COOKIE = '__Secure-lyceum-refresh';
export const REFRESH_COOKIE_PATH = '/api/v1/auth';
/** Browsers cannot send a custom header cross-site without a CORS preflight our allowlist refuses. */
export const CSRF_HEADER = 'x-csrf';
/** Far above any real request to these routes; a megabyte password is refused before it is parsed. */
export const AUTH_BODY_LIMIT = 16 * 1024;

/**
 * Responses that carry secrets (tokens, keys, recovery codes) must not be stored by the idempotency
 * layer, which keeps response bodies in the clear for 24 hours: these routes ignore Idempotency-Key.
 * (A retried login simply signs in again.) Route onRequest hooks run before the global preHandler.
 */
export const ignoreIdempotencyKey = async (request: FastifyRequest) => {
  delete request.headers['idempotency-key'];
};

/**
 * The caller of an account-management route: a signed-in session, never an API key (a key scoped
 * to grading must not end its owner's sessions, change the password or mint other credentials).
 */
export function requireSession(request: FastifyRequest): Principal & { sessionId: string } {
  const principal = requirePrincipal(request);
  if (principal.kind !== 'user' || !principal.sessionId) {
    throw new AppError(403, IdentityErrors.AUTH_SESSION_REQUIRED, 'Sign in: API keys cannot manage the account.');
  }
  return principal as Principal & { sessionId: string };
}

export const clientOf = (request: FastifyRequest): ClientInfo => ({
  ip: request.ip,
  userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : undefined,
});

export function readCookie(request: Pick<FastifyRequest, 'headers'>, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return decodeURIComponent(part.slice(index + 1).trim());
  }
  return undefined;
}

function setRefreshCookie(reply: FastifyReply, token: string, expiresAt: Date, now: Date) {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
  reply.header('set-cookie', `${REFRESH_COOKIE}=${token}; Path=${REFRESH_COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`);
}

function clearRefreshCookie(reply: FastifyReply) {
  reply.header('set-cookie', `${REFRESH_COOKIE}=; Path=${REFRESH_COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict`);
}

export interface IdentityRouteDeps {
  service: IdentityService;
  keys: SigningKeyRing;
  now: () => Date;
  accessTokenTtl: number;
  /** Per-IP limit on sensitive auth routes, per window. */
  rateLimit: { max: number; timeWindow: number };
  /** Renders a login result that is not a session yet (an MFA challenge). */
  renderChallenge?: (result: Extract<LoginResult, { kind: 'mfa' }>) => unknown;
}

export const MfaChallenge = Type.Object(
  {
    mfaRequired: Type.Literal(true),
    challenge: Type.String({ description: 'Pass to POST /auth/mfa/totp/verify with a code.' }),
    methods: Type.Array(Type.String()),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'IdentityMfaChallenge', additionalProperties: false },
);

/** Sends tokens the way the client asked: all in the body (mobile) or the refresh token as a cookie (web). */
export function sendTokens(reply: FastifyReply, tokens: IssuedTokens, transport: 'body' | 'cookie' | undefined, deps: Pick<IdentityRouteDeps, 'now' | 'accessTokenTtl'>, extra: Partial<TokensView> = {}): TokensView {
  const body: TokensView = {
    tokenType: 'Bearer',
    accessToken: tokens.accessToken,
    expiresIn: Math.max(0, Math.round((tokens.accessTokenExpiresAt.getTime() - deps.now().getTime()) / 1000)),
    accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
    sessionId: tokens.sessionId,
    sessionExpiresAt: tokens.sessionExpiresAt.toISOString(),
    ...extra,
  };
  reply.header('cache-control', 'no-store');
  if (transport === 'cookie') setRefreshCookie(reply, tokens.refreshToken, tokens.sessionExpiresAt, deps.now());
  else body.refreshToken = tokens.refreshToken;
  return body;
}

const tags = ['auth'];

/** Thin routes: schema, access rule, one service call. */
export function identityRoutes(deps: IdentityRouteDeps) {
  const { service } = deps;
  const strict = { rateLimit: deps.rateLimit };
  const refreshLimit = { rateLimit: { ...deps.rateLimit, max: deps.rateLimit.max * 3 } };

  return async (app: AppInstance) => {
    app.addSchema(User);
    app.addSchema(Tokens);
    app.addSchema(Session);
    app.addSchema(Accepted);
    app.addSchema(MfaChallenge);

    app.post(
      '/auth/register',
      {
        config: { access: 'public', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Create an account',
          description: 'Answers 202 whether or not the email is already registered (no account enumeration); a confirmation link is mailed.',
          body: RegisterBody,
          response: { 202: Type.Ref(Accepted) },
        },
      },
      async (request, reply) => reply.code(202).send(await service.register(request.body, clientOf(request))),
    );

    app.post(
      '/auth/login',
      {
        onRequest: ignoreIdempotencyKey,
        config: { access: 'public', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Sign in with email and password',
          description: 'Returns tokens, or an MFA challenge when the account has a second factor. Wrong email and wrong password get the same 401.',
          body: LoginBody,
          response: { 200: Type.Union([Type.Ref(Tokens), Type.Ref(MfaChallenge)]) },
        },
      },
      async (request, reply) => {
        const result = await service.login(request.body, clientOf(request));
        if (result.kind === 'mfa') return { mfaRequired: true as const, challenge: result.challenge, methods: result.methods, expiresAt: result.expiresAt.toISOString() };
        return sendTokens(reply, result.tokens, request.body.refreshTransport, deps, { user: userView(result.user) });
      },
    );

    app.post(
      '/auth/refresh',
      {
        onRequest: ignoreIdempotencyKey,
        config: { access: 'public', ...refreshLimit },
        bodyLimit: AUTH_BODY_LIMIT,
        // A browser refreshing by cookie may send no body at all.
        preValidation: async (request) => {
          request.body ??= {};
        },
        schema: {
          tags,
          summary: 'Exchange a refresh token for new tokens',
          description: `The refresh token comes in the body (mobile) or in the \`${REFRESH_COOKIE}\` cookie (web; then the \`X-CSRF: 1\` header is required). Every use rotates it.`,
          body: RefreshBody,
          response: { 200: Type.Ref(Tokens) },
        },
      },
      async (request, reply) => {
        const fromBody = request.body.refreshToken;
        let token = fromBody;
        let transport = request.body.refreshTransport ?? 'body';
        if (!token) {
          token = readCookie(request, REFRESH_COOKIE);
          if (!token) throw refreshInvalid();
          if (request.headers[CSRF_HEADER] !== '1') throw new AppError(403, IdentityErrors.AUTH_CSRF_REQUIRED, 'Send the X-CSRF: 1 header when the refresh token is a cookie.');
          transport = request.body.refreshTransport ?? 'cookie';
        }
        return sendTokens(reply, await service.refresh(token, clientOf(request)), transport, deps);
      },
    );

    app.post(
      '/auth/logout',
      { config: { access: 'session' }, schema: { tags, summary: 'End this session', description: 'Its access token stops working at once, on every node. (An API key has no session: revoke the key instead.)', response: { 204: Type.Null() } } },
      async (request, reply) => {
        const principal = requireSession(request);
        await service.logout(principal.userId, principal.sessionId, clientOf(request));
        clearRefreshCookie(reply);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/auth/logout-all',
      {
        config: { access: 'session', freshSecondFactor: true },
        schema: { tags, summary: 'End every session of the caller', response: { 200: Type.Object({ sessionsEnded: Type.Integer() }, { additionalProperties: false }) } },
      },
      async (request, reply) => {
        const principal = requireSession(request);
        const sessionsEnded = await service.logoutAll(principal.userId, clientOf(request));
        clearRefreshCookie(reply);
        return { sessionsEnded };
      },
    );

    app.get(
      '/auth/sessions',
      { config: { access: 'session' }, schema: { tags, summary: "List the caller's live sessions", querystring: PageQuery, response: { 200: Page(Type.Ref(Session)) } } },
      async (request) => {
        const principal = requireSession(request);
        return service.listSessions(principal.userId, principal.sessionId, request.query);
      },
    );

    app.delete(
      '/auth/sessions/:id',
      { config: { access: 'session', freshSecondFactor: true }, schema: { tags, summary: 'End one of the caller’s sessions', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await service.endSession(requireSession(request).userId, request.params.id, clientOf(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/auth/email/verify',
      {
        config: { access: 'public', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: { tags, summary: 'Confirm an email address with the mailed token', body: TokenBody, response: { 200: Type.Ref(User) } },
      },
      async (request) => service.verifyEmail(request.body.token, clientOf(request)),
    );

    app.post(
      '/auth/email/resend',
      {
        config: { access: 'public', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        preValidation: async (request) => {
          request.body ??= {};
        },
        schema: {
          tags,
          summary: 'Send the confirmation link again',
          description: 'Signed in: for the caller (429 during the cool-down). Anonymous: for `email`, always 202.',
          body: ResendBody,
          response: { 202: Type.Ref(Accepted) },
        },
      },
      async (request, reply) => {
        const target = request.principal ? { userId: request.principal.userId } : { email: request.body.email };
        if (!target.userId && !target.email) throw new AppError(422, 'VALIDATION_FAILED', 'Give `email`, or sign in.', { errors: [{ path: '/body/email', message: 'is required when not signed in' }] });
        return reply.code(202).send(await service.resendVerification(target));
      },
    );

    app.post(
      '/auth/email/change',
      {
        config: { access: 'session', freshSecondFactor: true, ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: { tags, summary: 'Move the account to another email address', description: 'Needs the password; the change happens when the link mailed to the new address is opened.', body: ChangeEmailBody, response: { 202: Type.Ref(Accepted) } },
      },
      async (request, reply) => reply.code(202).send(await service.changeEmail(requireSession(request).userId, request.body, clientOf(request))),
    );

    app.post(
      '/auth/password/forgot',
      {
        config: { access: 'public', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: { tags, summary: 'Mail a password reset link', description: 'Always 202, whether or not the address has an account.', body: EmailBody, response: { 202: Type.Ref(Accepted) } },
      },
      async (request, reply) => reply.code(202).send(await service.forgotPassword(request.body.email, clientOf(request))),
    );

    app.post(
      '/auth/password/reset',
      {
        config: { access: 'public', ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: { tags, summary: 'Set a new password with a reset token', description: 'Ends every session of the account.', body: ResetBody, response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        await service.resetPassword(request.body.token, request.body.newPassword, clientOf(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/auth/password/change',
      {
        config: { access: 'session', freshSecondFactor: true, ...strict },
        bodyLimit: AUTH_BODY_LIMIT,
        schema: { tags, summary: 'Change the password', description: 'Needs the current password; ends every other session.', body: ChangePasswordBody, response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        const principal = requireSession(request);
        await service.changePassword(principal.userId, principal.sessionId, request.body, clientOf(request));
        return reply.code(204).send(null);
      },
    );

    app.get('/me', { config: { access: 'authenticated' }, schema: { tags: ['me'], summary: 'The signed-in user', response: { 200: Type.Ref(User) } } }, async (request, reply) => {
      const user = await service.me(requirePrincipal(request).userId);
      setEtag(reply, user.version);
      return user;
    });

    app.patch(
      '/me',
      { config: { access: 'session' }, schema: { tags: ['me'], summary: 'Update the signed-in user', description: 'Accepts If-Match. An unknown `timeZone` is 422 `IDENTITY_TIME_ZONE_INVALID`.', body: MePatch, response: { 200: Type.Ref(User) } } },
      async (request, reply) => {
        const user = await service.updateMe(requireSession(request).userId, expectedVersion(request), request.body);
        setEtag(reply, user.version);
        return user;
      },
    );
  };
}

/** `/.well-known/jwks.json`, at the root where verifiers look for it. */
export function jwksRoutes(keys: SigningKeyRing) {
  return async (app: AppInstance) => {
    app.get(
      '/.well-known/jwks.json',
      {
        config: { access: 'public' },
        schema: { tags, summary: 'Public keys that verify access tokens (JWKS)', response: { 200: Jwks } },
      },
      async (_request, reply) => {
        await keys.ensure();
        reply.header('cache-control', 'public, max-age=300');
        return keys.jwks();
      },
    );
  };
}

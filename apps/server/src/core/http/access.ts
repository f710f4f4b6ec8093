import type { FastifyInstance, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import { AppError, CoreErrors } from './problem.js';
import { addRouteHook } from './route-hooks.js';

/** Who may call a route: anyone, any signed-in caller, or a caller holding a named permission. */
/** `session`: a signed-in user, never an API key (account management, minting credentials). */
export type AccessRule = 'public' | 'authenticated' | 'session' | { permission: string };

/** The caller, as established by the authenticator the identity module plugs in. */
export interface Principal {
  kind: 'user' | 'apiKey';
  userId: string;
  sessionId?: string;
  roles: readonly string[];
  permissions: ReadonlySet<string>;
  /** When the credentials stop being valid (epoch ms), if they expire. */
  expiresAt?: number;
}

/** What an authenticator may look at: the same for an HTTP request and a socket handshake. */
export type CredentialSource = Pick<FastifyRequest, 'headers' | 'ip'>;

/**
 * Returns the caller for a request that carries credentials, or null when it carries none.
 * Throws an AppError (401) when credentials are present but invalid, expired or revoked.
 */
export type Authenticator = (request: CredentialSource) => Promise<Principal | null>;

export type SessionEndedListener = (sessionId: string, reason: string) => void;

/** Throws (403) when the caller has a second factor and has not passed it recently; set by identity. */
export type FreshSecondFactorCheck = (principal: Principal) => Promise<void>;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
    /** A sensitive action: a caller who has a second factor must have passed it recently. */
    freshSecondFactor?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const noAuthenticator: Authenticator = async () => null;

export interface AccessGuard {
  setAuthenticator(authenticator: Authenticator): void;
  setFreshSecondFactorCheck(check: FreshSecondFactorCheck): void;
  /** Authenticates credentials that did not come as an HTTP request (a Socket.io handshake). */
  authenticate(source: CredentialSource): Promise<Principal | null>;
  /**
   * Announces, on this node, that a session has ended (logout, revocation, password change). The
   * identity module calls it from an event subscriber, so it happens on every node; the realtime
   * gateway listens and disconnects that session's sockets.
   */
  sessionEnded(sessionId: string, reason: string): void;
  onSessionEnded(listener: SessionEndedListener): () => void;
}

export const describeAccess = (rule: AccessRule): string =>
  rule === 'public'
    ? 'Public.'
    : rule === 'authenticated'
      ? 'Requires a signed-in caller.'
      : rule === 'session'
        ? 'Requires a signed-in session; API keys are refused.'
        : `Requires the \`${rule.permission}\` permission.`;

/**
 * Every route must declare its access rule; the app refuses to start otherwise. Each route gets a
 * guard for its rule, and the OpenAPI document states them (`security`, `x-access`). Routes that do
 * not exist (404) have no rule and no guard.
 */
export function registerAccessGuard(app: FastifyInstance): AccessGuard {
  let authenticate = noAuthenticator;
  let checkFreshSecondFactor: FreshSecondFactorCheck = async () => {};
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = (route.schema ??= {}) as Record<string, unknown>;
    const frameworkRoute = route.url.startsWith('/docs') || route.method === 'OPTIONS';
    if (!route.config?.access && schema.hide === true && frameworkRoute) {
      // The reference UI's static files and the CORS preflight: public by nature, not part of the API.
      route.config = { ...route.config, access: 'public' };
      addRouteHook(route, 'onRequest', guardFor('public', false));
      return;
    }
    const rule = route.config?.access;
    if (!rule) throw new Error(`Route ${String(route.method)} ${route.url} declares no access rule (config.access)`);
    schema.security = rule === 'public' ? [] : [{ bearerAuth: [] }];
    schema['x-access'] = typeof rule === 'string' ? rule : `permission:${rule.permission}`;
    const description = typeof schema.description === 'string' ? `${schema.description}\n\n` : '';
    schema.description = `${description}Access: ${describeAccess(rule)}`;
    if (route.config?.freshSecondFactor) {
      schema['x-fresh-second-factor'] = true;
      schema.description += ' A caller with a second factor must have passed it within AUTH_STEP_UP_SECONDS (POST /auth/mfa/step-up), or gets 403 AUTH_STEP_UP_REQUIRED.';
    }
    addRouteHook(route, 'onRequest', guardFor(rule, route.config?.freshSecondFactor === true));
  });

  async function guard(request: FastifyRequest, rule: Exclude<AccessRule, 'public'>, freshSecondFactor: boolean): Promise<void> {
    request.principal = request.headers.authorization !== undefined ? await authenticate(request) : null;
    if (!request.principal) throw new AppError(401, CoreErrors.AUTH_REQUIRED, 'Sign in to call this route.', { headers: { 'www-authenticate': 'Bearer' } });
    if (rule === 'session' && (request.principal.kind !== 'user' || !request.principal.sessionId)) {
      throw new AppError(403, CoreErrors.SESSION_REQUIRED, 'Sign in: API keys cannot call this route.');
    }
    if (typeof rule === 'object' && !request.principal.permissions.has(rule.permission)) {
      throw new AppError(403, CoreErrors.FORBIDDEN, `Requires the ${rule.permission} permission.`);
    }
    if (freshSecondFactor) await checkFreshSecondFactor(request.principal);
  }

  /** The route's own guard: it knows the rule, and an anonymous call of a public route costs one check. */
  function guardFor(rule: AccessRule, freshSecondFactor: boolean): onRequestHookHandler {
    if (rule === 'public') {
      return (request, _reply, done) => {
        if (request.headers.authorization === undefined) return done();
        // Public routes may personalise for a signed-in caller but never fail on bad credentials.
        authenticate(request).then(
          (principal) => {
            request.principal = principal;
            done();
          },
          () => done(),
        );
      };
    }
    return (request, _reply, done) => void guard(request, rule, freshSecondFactor).then(() => done(), done);
  }

  const sessionListeners = new Set<SessionEndedListener>();
  return {
    setAuthenticator(authenticator) {
      authenticate = authenticator;
    },
    setFreshSecondFactorCheck(check) {
      checkFreshSecondFactor = check;
    },
    authenticate: (source) => authenticate(source),
    sessionEnded(sessionId, reason) {
      for (const listener of sessionListeners) listener(sessionId, reason);
    },
    onSessionEnded(listener) {
      sessionListeners.add(listener);
      return () => void sessionListeners.delete(listener);
    },
  };
}

/** The caller of a route whose rule guarantees one; for use in handlers of non-public routes. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError(401, CoreErrors.AUTH_REQUIRED, 'Sign in to call this route.');
  return request.principal;
}

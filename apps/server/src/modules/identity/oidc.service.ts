import * as oidc from 'openid-client';
import type { Clock } from '../../core/clock.js';
import type { OidcProviderOption } from '../../core/config/options.js';
import type { Db, Tx } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import { isDbError } from '../../core/db/errors.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { EventLog } from '../../core/events/types.js';
import type { Audit, ClientInfo } from './audit.js';
import { IdentityEvents, type UserRegisteredPayload } from './identity.events.js';
import { identityRepo, newUserRow } from './identity.repo.js';
import { IdentityErrors } from './identity.errors.js';
import type { IdentityService, LoginResult } from './identity.service.js';
import { normaliseEmail } from './identity.service.js';
import type { UserRow } from './identity.tables.js';
import { hmac, randomToken, sha256 } from './secrets-util.js';
import type { Sessions } from './sessions.js';

const FLOW_TTL_MS = 10 * 60_000;
const LOGIN_CODE_TTL_MS = 60_000;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface OidcDeps {
  db: Db;
  clock: Clock;
  events: EventLog;
  audit: Audit;
  sessions: Sessions;
  providers: OidcProviderOption[];
  /** Where a provider sends the browser back: `<PUBLIC_URL>/api/v1/auth/oidc/<name>/callback`. */
  callbackUrl: (provider: string) => string;
  /** The app pages and mobile links a finished sign-in may return to, matched exactly. */
  allowedRedirects: string[];
  /** Derives the PKCE verifier and nonce from the state, so that no secret of the flow is stored. */
  flowSecret: string;
  service: () => IdentityService;
  secondFactor: { isEnabled(userId: string): Promise<boolean>; challenge(user: UserRow, context: { device?: string }): Promise<LoginResult> };
}

/** Where the callback sends the browser: the app's page with a one-time code, or with an error code. */
export type CallbackOutcome = { redirectTo: string };

/**
 * Single sign-on with OpenID Connect providers: authorization code flow with PKCE (S256), state and
 * nonce; accounts are linked by the provider's subject, or on first use by an email the provider
 * asserts as verified. The client never sees provider tokens: it gets a one-time code that it
 * exchanges for Lyceum tokens, so nothing sensitive travels in a URL for longer than a minute.
 */
export function createOidc(deps: OidcDeps) {
  const { db, clock, audit } = deps;
  const discovered = new Map<string, Promise<oidc.Configuration>>();
  const iso = (offsetMs = 0) => new Date(clock.now().getTime() + offsetMs).toISOString();

  function providerOf(name: string): OidcProviderOption {
    const provider = deps.providers.find((p) => p.name === name);
    if (!provider) throw new AppError(404, IdentityErrors.AUTH_SSO_UNKNOWN_PROVIDER, `No single sign-on provider named "${name}".`);
    return provider;
  }

  function configurationOf(provider: OidcProviderOption): Promise<oidc.Configuration> {
    let pending = discovered.get(provider.name);
    if (!pending) {
      const issuer = new URL(provider.issuer);
      const auth =
        provider.tokenEndpointAuthMethod === 'none'
          ? oidc.None()
          : provider.tokenEndpointAuthMethod === 'client_secret_post'
            ? oidc.ClientSecretPost(provider.clientSecret)
            : oidc.ClientSecretBasic(provider.clientSecret);
      // Plain http only for a provider on this machine (development, tests).
      const execute = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname) ? [oidc.allowInsecureRequests] : [];
      pending = oidc.discovery(issuer, provider.clientId, undefined, auth, { execute });
      // A failed discovery (provider down) is retried on the next attempt rather than cached.
      pending.catch(() => discovered.delete(provider.name));
      discovered.set(provider.name, pending);
    }
    return pending;
  }

  const verifierOf = (state: string) => hmac(deps.flowSecret, `pkce:${state}`);
  const nonceOf = (state: string) => hmac(deps.flowSecret, `nonce:${state}`);

  const withParams = (target: string, params: Record<string, string>) => {
    const url = new URL(target);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url.toString();
  };

  async function linkOrCreate(tx: Tx, provider: string, subject: string, claims: oidc.IDToken & Record<string, unknown>, client: ClientInfo): Promise<UserRow> {
    const now = iso();
    const link = await tx.selectFrom('identity_oidc_link').selectAll().where('provider', '=', provider).where('subject', '=', subject).executeTakeFirst();
    if (link) {
      await tx.updateTable('identity_oidc_link').set({ last_used_at: now }).where('provider', '=', provider).where('subject', '=', subject).execute();
      return (await tx.selectFrom('identity_user').selectAll().where('id', '=', link.user_id).executeTakeFirstOrThrow()) as UserRow;
    }
    // Linking by email is safe only when the provider vouches for the address.
    if (typeof claims.email !== 'string' || claims.email_verified !== true) {
      throw new SsoRefusal('email_not_verified');
    }
    const email = normaliseEmail(claims.email);
    let user = (await tx.selectFrom('identity_user').selectAll().where('email', '=', email).executeTakeFirst()) as UserRow | undefined;
    if (user && !user.email_verified_at) {
      // Someone registered this address without proving it (perhaps to pre-hijack the account): the
      // provider proves it now, so the unproven password and sessions go.
      await tx.updateTable('identity_user').set({ email_verified_at: now, password_hash: null, version: user.version + 1, updated_at: now }).where('id', '=', user.id).execute();
      await deps.sessions.revokeAll(tx, user.id, 'account-claimed-by-sso');
      user = { ...user, email_verified_at: now, password_hash: null, version: user.version + 1 };
    }
    if (!user) {
      const displayName = (typeof claims.name === 'string' && claims.name.trim()) || email.split('@')[0]!;
      user = newUserRow({ email, email_verified_at: now, display_name: displayName.slice(0, 100), password_hash: null, roles: 'student' }, now);
      await identityRepo(tx).insertUser(user);
      await deps.events.append<UserRegisteredPayload>(tx, { type: IdentityEvents.userRegistered, scopes: [`user:${user.id}`], payload: { userId: user.id }, actorId: user.id });
    }
    await tx.insertInto('identity_oidc_link').values({ provider, subject, user_id: user.id, email, created_at: now, last_used_at: now }).execute();
    await audit(tx, { type: 'sso.linked', actorId: user.id, targetId: user.id, client, details: { provider } });
    return user;
  }

  return {
    providers: () => deps.providers.map((p) => ({ name: p.name, displayName: p.displayName })),

    /** The provider URL to send the browser to. */
    async authorizationUrl(name: string, redirectUri: string): Promise<string> {
      const provider = providerOf(name);
      if (!deps.allowedRedirects.includes(redirectUri)) {
        throw new AppError(422, IdentityErrors.AUTH_SSO_REDIRECT_NOT_ALLOWED, 'This redirectUri is not in AUTH_OIDC_REDIRECT_URIS.');
      }
      const configuration = await configurationOf(provider);
      const state = randomToken();
      await db.insertInto('identity_oidc_flow').values({ state_hash: sha256(state), provider: name, redirect_uri: redirectUri, expires_at: iso(FLOW_TTL_MS), used_at: null }).execute();
      return oidc
        .buildAuthorizationUrl(configuration, {
          redirect_uri: deps.callbackUrl(name),
          scope: 'openid email profile',
          state,
          nonce: nonceOf(state),
          code_challenge: await oidc.calculatePKCECodeChallenge(verifierOf(state)),
          code_challenge_method: 'S256',
        })
        .toString();
    },

    /**
     * The provider's redirect back. Any failure after the flow is known goes back to the app as
     * `?error=<reason>`; a request that matches no flow is refused outright (it may be forged).
     */
    async callback(name: string, currentUrl: URL, client: ClientInfo): Promise<CallbackOutcome> {
      const provider = providerOf(name);
      const state = currentUrl.searchParams.get('state') ?? '';
      const used = await db
        .updateTable('identity_oidc_flow')
        .set({ used_at: iso() })
        .where('state_hash', '=', sha256(state))
        .where('provider', '=', name)
        .where('used_at', 'is', null)
        .where('expires_at', '>', iso())
        .returning('redirect_uri')
        .executeTakeFirst();
      if (!used) throw new AppError(400, IdentityErrors.AUTH_SSO_CODE_INVALID, 'This sign-in attempt is unknown, expired or already finished; start again.');
      const back = (params: Record<string, string>) => ({ redirectTo: withParams(used.redirect_uri, params) });
      const providerError = currentUrl.searchParams.get('error');
      if (providerError) return back({ error: /^[a-z_]{1,64}$/.test(providerError) ? providerError : 'provider_error' });
      try {
        const configuration = await configurationOf(provider);
        const callbackUrl = new URL(deps.callbackUrl(name));
        callbackUrl.search = currentUrl.search;
        const tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, { pkceCodeVerifier: verifierOf(state), expectedState: state, expectedNonce: nonceOf(state), idTokenExpected: true });
        let claims = tokens.claims()! as oidc.IDToken & Record<string, unknown>;
        // Some providers put email only in the UserInfo response (the ID token then carries just `sub`).
        if (claims.email === undefined) claims = { ...(await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub)), ...claims };
        const code = randomToken('lyc_');
        await withTransaction(db, async (tx) => {
          const user = await linkOrCreate(tx, name, claims.sub, claims, client);
          if (user.status !== 'active') throw new SsoRefusal('account_disabled');
          await tx.insertInto('identity_oidc_login_code').values({ code_hash: sha256(code), user_id: user.id, provider: name, expires_at: iso(LOGIN_CODE_TTL_MS), used_at: null }).execute();
        });
        return back({ code });
      } catch (err) {
        const reason = err instanceof SsoRefusal ? err.reason : isDbError(err, 'unique') ? 'try_again' : 'provider_error';
        await audit(db, { type: 'sso.failed', actorId: null, targetId: null, client, details: { provider: name, reason, error: err instanceof Error ? err.message.slice(0, 200) : 'unknown' } });
        return back({ error: reason });
      }
    },

    /** Trades the one-time code for a session, or for an MFA challenge when the account has a second factor. */
    async exchange(code: string, options: { device?: string }, client: ClientInfo): Promise<LoginResult> {
      const row = await db
        .updateTable('identity_oidc_login_code')
        .set({ used_at: iso() })
        .where('code_hash', '=', sha256(code))
        .where('used_at', 'is', null)
        .where('expires_at', '>', iso())
        .returning(['user_id', 'provider'])
        .executeTakeFirst();
      const user = row && ((await db.selectFrom('identity_user').selectAll().where('id', '=', row.user_id).executeTakeFirst()) as UserRow | undefined);
      if (!row || !user || user.status !== 'active') throw new AppError(401, IdentityErrors.AUTH_SSO_CODE_INVALID, 'This sign-in code is invalid, expired or already used.');
      if (await deps.secondFactor.isEnabled(user.id)) return deps.secondFactor.challenge(user, options);
      return deps.service().startSession(user, client, { device: options.device, method: `sso:${row.provider}` });
    },

    /** Deletes finished and expired flows and codes (run by a schedule). */
    async prune(): Promise<void> {
      await db.deleteFrom('identity_oidc_flow').where('expires_at', '<', iso()).execute();
      await db.deleteFrom('identity_oidc_login_code').where('expires_at', '<', iso()).execute();
    },
  };
}

class SsoRefusal extends Error {
  constructor(readonly reason: 'email_not_verified' | 'account_disabled') {
    super(reason);
  }
}

export type Oidc = ReturnType<typeof createOidc>;

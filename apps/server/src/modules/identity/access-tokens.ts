import { errors, jwtVerify, SignJWT, decodeProtectedHeader, type JWTPayload } from 'jose';
import type { Clock } from '../../core/clock.js';
import { invalidToken, tokenExpired } from './identity.errors.js';
import { SIGNING_ALG, type SigningKeyRing } from './signing-keys.js';

/** Header `typ` of our access tokens (RFC 9068), and the `typ` claim that says what the token is for. */
export const ACCESS_TOKEN_HEADER_TYP = 'at+jwt';
export const ACCESS_TOKEN_TYP = 'access';

export interface AccessClaims {
  sub: string;
  sid: string;
  roles: string[];
  /** Seconds since the epoch. */
  exp: number;
  iat: number;
}

export interface AccessTokens {
  issue(claims: { sub: string; sid: string; roles: string[] }): Promise<{ token: string; expiresAt: Date }>;
  /** Verifies signature, algorithm, kid, typ, iss, aud, exp and nbf; throws a 401 AppError otherwise. */
  verify(token: string): Promise<AccessClaims>;
}

const CACHE_MAX = 20_000;

/**
 * EdDSA access tokens. A verified token is remembered (until it expires) so that the signature is
 * checked once per token rather than once per request: Ed25519 verification costs far more than the
 * rest of authentication. Session liveness is checked on every request regardless.
 */
export function createAccessTokens(deps: { keys: SigningKeyRing; clock: Clock; issuer: string; audience: string; ttlSeconds: number }): AccessTokens {
  const { keys, clock, issuer, audience, ttlSeconds } = deps;
  const verified = new Map<string, AccessClaims>();
  const inFlight = new Map<string, Promise<AccessClaims>>();

  return {
    async issue({ sub, sid, roles }) {
      await keys.ensure();
      const { kid, privateKey } = keys.current();
      const now = Math.floor(clock.now().getTime() / 1000);
      const token = await new SignJWT({ sid, roles, typ: ACCESS_TOKEN_TYP })
        .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: ACCESS_TOKEN_HEADER_TYP })
        .setSubject(sub)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + ttlSeconds)
        .sign(privateKey);
      return { token, expiresAt: new Date((now + ttlSeconds) * 1000) };
    },

    async verify(token) {
      const cached = verified.get(token);
      if (cached) {
        if (cached.exp <= clock.now().getTime() / 1000) {
          verified.delete(token);
          throw tokenExpired();
        }
        return cached;
      }
      // Requests that bring a new token at the same time (an app's first calls after a refresh) share one check.
      let pending = inFlight.get(token);
      if (!pending) {
        pending = checkSignature(token).finally(() => inFlight.delete(token));
        inFlight.set(token, pending);
      }
      return pending;
    },
  };

  /** Verifies a token not seen before and remembers it once verified. */
  async function checkSignature(token: string): Promise<AccessClaims> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw invalidToken();
    }
    if (header.alg !== SIGNING_ALG || typeof header.kid !== 'string' || header.kid.length > 64) throw invalidToken();
    const key = await keys.verificationKey(header.kid);
    if (!key) throw invalidToken();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [SIGNING_ALG],
        issuer,
        audience,
        typ: ACCESS_TOKEN_HEADER_TYP,
        currentDate: clock.now(),
        requiredClaims: ['sub', 'sid', 'exp', 'iat', 'nbf', 'typ'],
      }));
    } catch (err) {
      throw err instanceof errors.JWTExpired ? tokenExpired() : invalidToken();
    }
    if (payload.typ !== ACCESS_TOKEN_TYP || typeof payload.sid !== 'string' || typeof payload.sub !== 'string') throw invalidToken();
    if (!Array.isArray(payload.roles) || !payload.roles.every((r) => typeof r === 'string')) throw invalidToken();
    const claims: AccessClaims = { sub: payload.sub, sid: payload.sid, roles: payload.roles as string[], exp: payload.exp!, iat: payload.iat! };
    if (verified.size >= CACHE_MAX) verified.clear();
    verified.set(token, claims);
    return claims;
  }
}

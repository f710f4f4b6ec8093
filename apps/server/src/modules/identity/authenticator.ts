import type { Authenticator, Principal } from '../../core/http/access.js';
import type { AccessTokens } from './access-tokens.js';
import { invalidToken, sessionEnded } from './identity.errors.js';
import { permissionsOf } from './permissions.js';
import type { Sessions } from './sessions.js';

export const API_KEY_PREFIX = 'lyk_';

/**
 * Turns `Authorization: Bearer …` into a principal: an access token (signature, claims, and a live
 * session on every request) or an API key. Throws 401 for anything present but not valid.
 */
export function createAuthenticator(deps: {
  accessTokens: AccessTokens;
  sessions: Sessions;
  apiKeys: { authenticate(key: string): Promise<Principal> };
}): Authenticator {
  const permissionCache = new Map<string, ReadonlySet<string>>();
  const permissionsFor = (roles: string[]) => {
    const key = roles.join(',');
    let set = permissionCache.get(key);
    if (!set) permissionCache.set(key, (set = permissionsOf(roles)));
    return set;
  };

  return async (request) => {
    const header = request.headers.authorization;
    if (header === undefined) return null;
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,4096})$/.exec(String(header));
    if (!match) throw invalidToken();
    const token = match[1]!;
    if (token.startsWith(API_KEY_PREFIX)) return deps.apiKeys.authenticate(token);
    const claims = await deps.accessTokens.verify(token);
    if (!(await deps.sessions.isLive(claims.sid, claims.sub))) throw sessionEnded();
    return { kind: 'user', userId: claims.sub, sessionId: claims.sid, roles: claims.roles, permissions: permissionsFor(claims.roles), expiresAt: claims.exp * 1000 };
  };
}

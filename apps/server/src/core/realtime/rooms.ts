import type { Principal } from '../http/access.js';

/** Decides whether a caller may follow `<prefix>:<id>` (e.g. the chat module for `conversation`). */
export type RoomAuthorizer = (principal: Principal, id: string) => Promise<boolean>;

export type RoomAuthorizers = ReadonlyMap<string, RoomAuthorizer>;

/** Admins' scope for system-wide events (job failures, audit). */
export const SYSTEM_SCOPE = 'system';
export const EVENTS_SYSTEM = 'events:system';

/**
 * Who may see events of a scope: their own `user:<id>`; `system` with the events:system permission;
 * any other `<prefix>:<id>` only if the module owning that prefix says so. Unknown prefixes: no.
 */
export async function authorizeScope(authorizers: RoomAuthorizers, principal: Principal, scope: string): Promise<boolean> {
  if (scope === SYSTEM_SCOPE) return principal.permissions.has(EVENTS_SYSTEM);
  const separator = scope.indexOf(':');
  if (separator <= 0) return false;
  const prefix = scope.slice(0, separator);
  const id = scope.slice(separator + 1);
  if (!id || id.length > 128) return false;
  if (prefix === 'user') return id === principal.userId;
  const authorize = authorizers.get(prefix);
  return authorize ? authorize(principal, id).catch(() => false) : false;
}

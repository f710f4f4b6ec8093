import type { Clock } from '../../core/clock.js';
import type { AuthConfig } from '../../core/config/config.js';
import type { Db, Tx } from '../../core/db/database.js';
import { afterCommit, withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import type { Principal } from '../../core/http/access.js';
import { toPage, type CursorCodec, type Page } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { Audit, ClientInfo } from './audit.js';
import { API_KEY_PREFIX } from './authenticator.js';
import { IdentityErrors, invalidToken } from './identity.errors.js';
import { IdentityEvents, type ApiKeyRevokedPayload } from './identity.events.js';
import { identityRepo } from './identity.repo.js';
import type { ApiKeyView } from './identity.schemas.js';
import type { ApiKeyRow } from './identity.tables.js';
import { permissionsOf } from './permissions.js';
import { randomToken, sha256 } from './secrets-util.js';

interface CachedKey {
  id: string;
  principal: Principal;
  expiresAt: number | null;
  checkedAt: number;
}

const CACHE_TTL_MS = 30_000;
const TOUCH_EVERY_MS = 60_000;

const view = (row: ApiKeyRow): ApiKeyView => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  permissions: JSON.parse(row.permissions) as string[],
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  lastUsedAt: row.last_used_at,
});

/**
 * Personal API keys: `lyk_` + 256 random bits, shown once, stored as SHA-256. A key carries a subset
 * of its owner's permissions and never more than the owner holds today (a demoted owner's keys
 * shrink with them). Keys cannot mint keys.
 */
interface KeyInput {
  name: string;
  permissions: string[];
  expiresAt?: string;
}

export function createApiKeys(deps: { db: Db; clock: Clock; events: EventLog; cursors: CursorCodec; audit: Audit; auth: AuthConfig }) {
  const { db, clock, events, cursors, audit, auth } = deps;
  const cache = new Map<string, CachedKey>();
  const lastTouched = new Map<string, number>();

  function forget(predicate: (entry: CachedKey) => boolean) {
    for (const [hash, entry] of cache) if (predicate(entry)) cache.delete(hash);
  }

  async function requireServiceAccount(id: string) {
    const account = await identityRepo(db).findUserById(id);
    if (!account || account.kind !== 'service' || account.status === 'deleted') throw new AppError(404, IdentityErrors.IDENTITY_USER_NOT_FOUND, 'No such service account.');
    return account;
  }

  async function issue(owner: { ownerId: string; actorId: string; held: ReadonlySet<string> }, input: KeyInput, client: ClientInfo) {
    const missing = input.permissions.filter((p) => !owner.held.has(p));
    if (missing.length) {
      throw new AppError(422, IdentityErrors.IDENTITY_PERMISSION_NOT_HELD, `A key can only carry permissions its owner holds; missing ${missing.join(', ')}.`, {
        errors: missing.map((p) => ({ path: '/body/permissions', message: `${p} is not held by the key's owner` })),
      });
    }
    const now = clock.now();
    if (input.expiresAt && Date.parse(input.expiresAt) <= now.getTime()) {
      throw new AppError(422, 'VALIDATION_FAILED', 'expiresAt must be in the future.', { errors: [{ path: '/body/expiresAt', message: 'must be in the future' }] });
    }
    const key = randomToken(API_KEY_PREFIX);
    const row: ApiKeyRow = {
      id: newId('key'),
      user_id: owner.ownerId,
      name: input.name.trim(),
      key_hash: sha256(key),
      prefix: key.slice(0, 12),
      permissions: JSON.stringify([...input.permissions].sort()),
      created_at: now.toISOString(),
      expires_at: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
      last_used_at: null,
      revoked_at: null,
    };
    await withTransaction(db, async (tx) => {
      const user = await identityRepo(tx).findUserById(owner.ownerId);
      if (!user || user.status !== 'active') throw new AppError(404, IdentityErrors.IDENTITY_USER_NOT_FOUND, 'No such user.');
      if (user.kind === 'person' && auth.verifiedEmailRequiredFor.includes('api-keys') && !user.email_verified_at) {
        throw new AppError(403, IdentityErrors.AUTH_EMAIL_NOT_VERIFIED, 'Confirm your email address before creating API keys.');
      }
      await identityRepo(tx).insertApiKey(row);
      await audit(tx, { type: 'apikey.created', actorId: owner.actorId, targetId: owner.ownerId, client, details: { apiKeyId: row.id, name: row.name, permissions: input.permissions } });
    });
    return { apiKey: view(row), key };
  }

  return {
    /** A key for the caller, from a signed-in session, carrying a subset of the caller's permissions. */
    async create(principal: Principal, input: KeyInput, client: ClientInfo) {
      if (principal.kind !== 'user' || !principal.sessionId) throw new AppError(403, IdentityErrors.AUTH_SESSION_REQUIRED, 'Create API keys from a signed-in session, not with another key.');
      return issue({ ownerId: principal.userId, actorId: principal.userId, held: principal.permissions }, input, client);
    },

    /** A key for a service account, issued by an admin, carrying a subset of the account's permissions. */
    async createForServiceAccount(actorId: string, serviceAccountId: string, input: KeyInput, client: ClientInfo) {
      const account = await requireServiceAccount(serviceAccountId);
      return issue({ ownerId: account.id, actorId, held: permissionsOf(account.roles.split(',')) }, input, client);
    },

    async list(userId: string, page: { limit?: number; cursor?: string }): Promise<Page<ApiKeyView>> {
      const limit = page.limit ?? 20;
      const before = page.cursor ? String(cursors.decode(page.cursor)[0]) : undefined;
      return toPage(await identityRepo(db).listApiKeys(userId, limit + 1, before), limit, cursors, (r) => [r.id], view);
    },

    async get(userId: string, id: string): Promise<ApiKeyView> {
      const row = await identityRepo(db).findApiKey(id);
      if (!row || row.user_id !== userId || row.revoked_at) throw new AppError(404, IdentityErrors.IDENTITY_API_KEY_NOT_FOUND, 'No such API key.');
      return view(row);
    },

    /** Revokes one of `userId`'s keys (the caller's own, or a service account's by an admin); another's is "not found". */
    async revoke(userId: string, id: string, client: ClientInfo, actorId = userId): Promise<void> {
      await withTransaction(db, async (tx) => {
        const row = await identityRepo(tx).findApiKey(id);
        if (!row || row.user_id !== userId || row.revoked_at) throw new AppError(404, IdentityErrors.IDENTITY_API_KEY_NOT_FOUND, 'No such API key.');
        await this.revokeIn(tx, userId, [id]);
        await audit(tx, { type: 'apikey.revoked', actorId, targetId: userId, client, details: { apiKeyId: id } });
      });
    },

    requireServiceAccount,

    /** Revokes keys in the caller's transaction; every node forgets them after commit. */
    async revokeIn(tx: Tx, userId: string, ids: string[]): Promise<string[]> {
      const revoked = await identityRepo(tx).revokeApiKeys(ids, clock.now().toISOString());
      if (revoked.length) {
        await events.append<ApiKeyRevokedPayload>(tx, { type: IdentityEvents.apiKeyRevoked, scopes: [`user:${userId}`], payload: { userId, apiKeyIds: revoked } });
        afterCommit(tx, () => forget((e) => revoked.includes(e.id)));
      }
      return revoked;
    },

    async authenticate(key: string): Promise<Principal> {
      const hash = sha256(key);
      const now = clock.now().getTime();
      let entry = cache.get(hash);
      if (!entry || performance.now() - entry.checkedAt > CACHE_TTL_MS) {
        const row = await identityRepo(db).findApiKeyByHash(hash);
        if (!row || row.revoked_at || row.status !== 'active') {
          cache.delete(hash);
          throw invalidToken();
        }
        const owned = permissionsOf(row.roles.split(','));
        const permissions = new Set((JSON.parse(row.permissions) as string[]).filter((p) => owned.has(p)));
        const expiresAt = row.expires_at ? Date.parse(row.expires_at) : null;
        entry = {
          id: row.id,
          principal: { kind: 'apiKey', userId: row.user_id, roles: [], permissions, ...(expiresAt ? { expiresAt } : {}) },
          expiresAt,
          checkedAt: performance.now(),
        };
        if (cache.size > 10_000) cache.clear();
        cache.set(hash, entry);
      }
      if (entry.expiresAt !== null && entry.expiresAt <= now) throw invalidToken();
      // Last use is recorded at most once a minute per key: not a write per request.
      const touched = lastTouched.get(entry.id) ?? 0;
      if (now - touched > TOUCH_EVERY_MS) {
        lastTouched.set(entry.id, now);
        void identityRepo(db).touchApiKey(entry.id, new Date(now).toISOString()).catch(() => undefined);
      }
      return entry.principal;
    },

    forgetKeys: (ids: string[]) => forget((e) => ids.includes(e.id)),
    forgetUser: (userId: string) => forget((e) => e.principal.userId === userId),
    /** Every live key of a user (admin actions, deletion). */
    liveKeyIds: (userId: string) => identityRepo(db).liveApiKeyIds(userId),
  };
}

export type ApiKeys = ReturnType<typeof createApiKeys>;

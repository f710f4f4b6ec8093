import type { Clock } from '../../core/clock.js';
import type { AuthConfig } from '../../core/config/config.js';
import type { Db, Tx } from '../../core/db/database.js';
import { afterCommit, withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import { newId } from '../../core/ids.js';
import type { AccessTokens } from './access-tokens.js';
import type { Audit, ClientInfo } from './audit.js';
import { refreshInvalid, refreshReused } from './identity.errors.js';
import { IdentityEvents, type SessionEndReason, type SessionRevokedPayload } from './identity.events.js';
import { identityRepo } from './identity.repo.js';
import type { SessionRow, UserRow } from './identity.tables.js';
import { hmac, randomToken, sha256 } from './secrets-util.js';

export const REFRESH_PREFIX = 'lyr_';

export interface IssuedTokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  /** When the session ends at the latest (absolute lifetime). */
  sessionExpiresAt: Date;
  sessionId: string;
  userId: string;
}

export interface NewSession {
  user: UserRow;
  sessionId: string;
  refreshToken: string;
  sessionExpiresAt: Date;
}

export interface SessionDeps {
  db: Db;
  clock: Clock;
  events: EventLog;
  audit: Audit;
  auth: AuthConfig;
  accessTokens: AccessTokens;
  /** Server secret from which a refresh token's successor is derived. */
  refreshSecret: string;
}

interface LiveEntry {
  userId: string;
  expiresAt: number;
  checkedAt: number;
}

/** How long a node trusts its cached "this session is live" without asking the database again. */
const LIVENESS_TTL_MS = 30_000;
const CACHE_MAX = 50_000;

export const rolesOf = (user: Pick<UserRow, 'roles'>): string[] => user.roles.split(',').filter(Boolean);

/**
 * Sessions and their refresh tokens. A session is one sign-in on one device; its refresh tokens form
 * a chain in which each token's successor is HMAC(secret, token). Deriving the successor (instead of
 * drawing it at random) lets a client that retries the immediately previous token within the grace
 * window receive the very same successor, without the server ever storing a token in the clear: every
 * token is stored as its SHA-256 only, and used ones are kept so that their reuse is recognised.
 */
export function createSessions(deps: SessionDeps) {
  const { db, clock, events, audit, auth, accessTokens, refreshSecret } = deps;
  const live = new Map<string, LiveEntry>();
  const ended = new Set<string>();

  const successorOf = (token: string) => `${REFRESH_PREFIX}${hmac(refreshSecret, token)}`;

  async function issueAccess(user: Pick<UserRow, 'id' | 'roles'>, sessionId: string) {
    return accessTokens.issue({ sub: user.id, sid: sessionId, roles: rolesOf(user) });
  }

  function evict(sessionIds: string[]): void {
    for (const id of sessionIds) {
      live.delete(id);
      if (ended.size >= CACHE_MAX) ended.clear();
      ended.add(id);
    }
  }

  /** Ends sessions in the caller's transaction; every node forgets them once it commits. */
  async function revoke(tx: Tx, userId: string, sessionIds: string[], reason: SessionEndReason): Promise<string[]> {
    const revoked = await identityRepo(tx).revokeSessions(sessionIds, clock.now().toISOString(), reason);
    if (revoked.length) {
      await events.append<SessionRevokedPayload>(tx, { type: IdentityEvents.sessionRevoked, scopes: [`user:${userId}`], payload: { userId, sessionIds: revoked, reason } });
      // This node at once; the others through the event log (its subscriber calls `forget`).
      afterCommit(tx, () => evict(revoked));
    }
    return revoked;
  }

  return {
    /**
     * Starts a session for a user who has proven who they are, in the caller's transaction. The
     * access token is signed by `firstTokens` once the transaction has committed (signing may load
     * keys, which must not wait for the connection the transaction holds).
     */
    async create(tx: Tx, user: UserRow, client: ClientInfo, options: { device?: string; mfa?: boolean } = {}): Promise<NewSession> {
      const now = clock.now();
      const session: SessionRow = {
        id: newId('ses'),
        user_id: user.id,
        device: options.device?.slice(0, 100) ?? null,
        user_agent: client.userAgent?.slice(0, 512) ?? null,
        ip: client.ip,
        mfa_at: options.mfa ? now.toISOString() : null,
        created_at: now.toISOString(),
        last_used_at: now.toISOString(),
        expires_at: new Date(now.getTime() + auth.sessionMaxAge * 1000).toISOString(),
        revoked_at: null,
        revoked_reason: null,
      };
      const refreshToken = randomToken(REFRESH_PREFIX);
      const repo = identityRepo(tx);
      await repo.insertSession(session);
      await repo.insertRefreshToken({ token_hash: sha256(refreshToken), session_id: session.id, generation: 0, created_at: session.created_at, used_at: null });
      return { user, sessionId: session.id, refreshToken, sessionExpiresAt: new Date(session.expires_at) };
    },

    async firstTokens(created: NewSession): Promise<IssuedTokens> {
      const access = await issueAccess(created.user, created.sessionId);
      return {
        accessToken: access.token,
        accessTokenExpiresAt: access.expiresAt,
        refreshToken: created.refreshToken,
        sessionExpiresAt: created.sessionExpiresAt,
        sessionId: created.sessionId,
        userId: created.user.id,
      };
    },

    /**
     * Rotates a refresh token. Exactly one caller wins the rotation of a token; the others, and any
     * retry within the grace window, get the same successor. A token used earlier than that, or
     * whose successor was itself used, is a replay: the whole session ends.
     */
    async refresh(token: string, client: ClientInfo): Promise<IssuedTokens> {
      if (!token.startsWith(REFRESH_PREFIX) || token.length > 200) throw refreshInvalid();
      const hash = sha256(token);
      const outcome = await withTransaction(db, async (tx) => {
        const repo = identityRepo(tx);
        const now = clock.now();
        const nowIso = now.toISOString();
        const found = await repo.findRefreshToken(hash);
        if (!found || found.revoked_at || found.expires_at <= nowIso) return { kind: 'invalid' as const };
        if (now.getTime() - Date.parse(found.last_used_at) > auth.sessionIdleTimeout * 1000) {
          await revoke(tx, found.user_id, [found.session_id], 'logout');
          return { kind: 'invalid' as const };
        }
        const user = await repo.findUserById(found.user_id);
        if (!user || user.status !== 'active') return { kind: 'invalid' as const };
        const successor = successorOf(token);
        if (await repo.claimRefreshToken(hash, nowIso)) {
          await repo.insertRefreshToken({ token_hash: sha256(successor), session_id: found.session_id, generation: found.generation + 1, created_at: nowIso, used_at: null });
          await repo.touchSession(found.session_id, nowIso);
          return { kind: 'rotated' as const, user, sessionId: found.session_id, successor, expiresAt: found.expires_at };
        }
        // Someone used this token already: a concurrent tab (same successor) or a replay.
        const usedAt = (await repo.findRefreshToken(hash))?.used_at;
        const next = await repo.findRefreshToken(sha256(successor));
        const withinGrace = usedAt !== null && usedAt !== undefined && now.getTime() - Date.parse(usedAt) <= auth.refreshGrace * 1000;
        if (withinGrace && next && next.used_at === null) {
          return { kind: 'rotated' as const, user, sessionId: found.session_id, successor, expiresAt: found.expires_at };
        }
        await revoke(tx, found.user_id, [found.session_id], 'refresh-reuse');
        await audit(tx, { type: 'refresh.reused', actorId: null, targetId: found.user_id, client, details: { sessionId: found.session_id } });
        return { kind: 'reused' as const };
      });
      if (outcome.kind === 'invalid') throw refreshInvalid();
      if (outcome.kind === 'reused') throw refreshReused();
      const access = await issueAccess(outcome.user, outcome.sessionId);
      return {
        accessToken: access.token,
        accessTokenExpiresAt: access.expiresAt,
        refreshToken: outcome.successor,
        sessionExpiresAt: new Date(outcome.expiresAt),
        sessionId: outcome.sessionId,
        userId: outcome.user.id,
      };
    },

    /** The session a refresh token belongs to, if the token is one we issued (for logout by cookie). */
    async sessionOfRefreshToken(token: string) {
      if (!token.startsWith(REFRESH_PREFIX)) return undefined;
      return identityRepo(db).findRefreshToken(sha256(token));
    },

    revoke,

    /** Ends every live session of a user (except `exceptId`); returns the ids. */
    async revokeAll(tx: Tx, userId: string, reason: SessionEndReason, exceptId?: string): Promise<string[]> {
      const ids = await identityRepo(tx).liveSessionIds(userId, clock.now().toISOString(), exceptId);
      return revoke(tx, userId, ids, reason);
    },

    /**
     * Is this session live? Answered from memory when this node checked within the last 30 s and
     * heard of no revocation since; revocations reach every node through the event log.
     */
    async isLive(sessionId: string, userId: string): Promise<boolean> {
      if (ended.has(sessionId)) return false;
      const now = clock.now().getTime();
      const entry = live.get(sessionId);
      if (entry && performance.now() - entry.checkedAt < LIVENESS_TTL_MS) return entry.userId === userId && entry.expiresAt > now;
      const row = await identityRepo(db).sessionLiveness(sessionId);
      if (!row || row.revoked_at || row.status !== 'active') {
        if (row?.revoked_at) evict([sessionId]);
        live.delete(sessionId);
        return false;
      }
      if (live.size >= CACHE_MAX) live.clear();
      live.set(sessionId, { userId: row.user_id, expiresAt: Date.parse(row.expires_at), checkedAt: performance.now() });
      return row.user_id === userId && Date.parse(row.expires_at) > now;
    },

    /** Called by the event subscriber on every node. */
    forget: evict,
    /** Forgets what this node cached about sessions of disabled or deleted users (they are not in `ended`). */
    forgetLive: (sessionIds: string[]) => sessionIds.forEach((id) => live.delete(id)),
  };
}

export type Sessions = ReturnType<typeof createSessions>;

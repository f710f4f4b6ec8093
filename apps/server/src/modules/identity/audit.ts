import type { Clock } from '../../core/clock.js';
import type { Db, Tx } from '../../core/db/database.js';
import { newId } from '../../core/ids.js';
import { identityRepo } from './identity.repo.js';

/** Where a request came from, for sessions and the audit log. */
export interface ClientInfo {
  ip: string;
  userAgent?: string;
}

export type AuditType =
  | 'user.registered'
  | 'user.created'
  | 'login.succeeded'
  | 'login.failed'
  | 'login.locked'
  | 'logout'
  | 'logout.all'
  | 'session.revoked'
  | 'refresh.reused'
  | 'password.changed'
  | 'password.reset.requested'
  | 'password.reset'
  | 'email.verified'
  | 'email.change.requested'
  | 'email.changed'
  | 'mfa.enabled'
  | 'mfa.disabled'
  | 'mfa.recovery.used'
  | 'mfa.step-up.failed'
  | 'sso.linked'
  | 'sso.failed'
  | 'passkey.added'
  | 'passkey.removed'
  | 'apikey.created'
  | 'apikey.revoked'
  | 'admin.roles.changed'
  | 'admin.user.disabled'
  | 'admin.user.enabled'
  | 'admin.sessions.ended'
  | 'admin.user.deleted'
  | 'admin.user.exported'
  | 'admin.created'
  | 'admin.service-account.created'
  | 'signingkey.rotated';

export interface AuditEntry {
  type: AuditType;
  actorId?: string | null;
  targetId?: string | null;
  client?: ClientInfo;
  details?: Record<string, unknown>;
}

/** Security events, written in the transaction of the change they describe. */
export function createAudit(clock: Clock) {
  return async function audit(db: Db | Tx, entry: AuditEntry): Promise<void> {
    await identityRepo(db).insertAuditEvent({
      id: newId('aud'),
      type: entry.type,
      actor_id: entry.actorId ?? null,
      target_id: entry.targetId ?? null,
      ip: entry.client?.ip ?? null,
      user_agent: entry.client?.userAgent?.slice(0, 512) ?? null,
      details: JSON.stringify(entry.details ?? {}),
      created_at: clock.now().toISOString(),
    });
  };
}

export type Audit = ReturnType<typeof createAudit>;

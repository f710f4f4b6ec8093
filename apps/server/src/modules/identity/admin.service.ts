import type { Clock } from '../../core/clock.js';
import type { AuthConfig } from '../../core/config/config.js';
import type { Db, Tx } from '../../core/db/database.js';
import { isDbError } from '../../core/db/errors.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import { versionMismatch } from '../../core/http/etag.js';
import { toPage, type CursorCodec, type Page } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { ApiKeys } from './api-keys.service.js';
import type { Audit, ClientInfo } from './audit.js';
import { IdentityErrors } from './identity.errors.js';
import { IdentityEvents, type UserDeletedPayload, type UserUpdatedPayload } from './identity.events.js';
import { identityRepo, newUserRow } from './identity.repo.js';
import type { AdminUserView, AuditEventView } from './identity.schemas.js';
import { normaliseEmail } from './identity.service.js';
import type { UserRow, UserStatus } from './identity.tables.js';
import { checkPasswordPolicy, type PasswordHasher } from './passwords.js';
import type { Role } from './permissions.js';
import { safeEqual } from './secrets-util.js';
import { rolesOf, type Sessions } from './sessions.js';

export const adminUserView = (u: UserRow): AdminUserView => ({
  id: u.id,
  email: u.email,
  emailVerified: u.email_verified_at !== null,
  displayName: u.display_name,
  roles: rolesOf(u),
  status: u.status,
  kind: u.kind,
  createdAt: u.created_at,
  updatedAt: u.updated_at,
  version: u.version,
});

const auditView = (r: { id: string; type: string; actor_id: string | null; target_id: string | null; ip: string | null; user_agent: string | null; details: string; created_at: string }): AuditEventView => ({
  id: r.id,
  type: r.type,
  actorId: r.actor_id,
  targetId: r.target_id,
  ip: r.ip,
  userAgent: r.user_agent,
  details: JSON.parse(r.details) as Record<string, unknown>,
  createdAt: r.created_at,
});

const notFound = () => new AppError(404, IdentityErrors.IDENTITY_USER_NOT_FOUND, 'No such user.');

/**
 * What administrators do to accounts: list and search, change roles, disable and enable, end
 * sessions, delete (anonymise) and export; the audit log; and creating the first administrator.
 */
export function createAdminService(deps: {
  db: Db;
  clock: Clock;
  events: EventLog;
  cursors: CursorCodec;
  auth: AuthConfig;
  passwords: PasswordHasher;
  sessions: Sessions;
  apiKeys: ApiKeys;
  audit: Audit;
  /** Extra personal data other features keep (MFA, passkeys), for exports. */
  exportExtras?: (userId: string) => Promise<Record<string, unknown>>;
}) {
  const { db, clock, events, cursors, auth, passwords, sessions, apiKeys, audit } = deps;
  const iso = () => clock.now().toISOString();

  async function load(tx: Db | Tx, id: string): Promise<UserRow> {
    const user = await identityRepo(tx).findUserById(id);
    if (!user || user.status === 'deleted') throw notFound();
    return user;
  }

  /** Refuses a change that would leave no active administrator. */
  /** A verified account with the given roles, made by the operator's tooling (CLI, demo seed), not through the API. */
  async function createAccount(input: { email: string; password: string; displayName: string }, roles: Role[], via: string): Promise<AdminUserView> {
    return withTransaction(db, async (tx) => {
      const user = await createUser(tx, input, roles);
      await audit(tx, { type: roles.includes('admin') ? 'admin.created' : 'user.created', actorId: null, targetId: user.id, details: { via, roles } });
      return adminUserView(user);
    });
  }

  async function keepAnAdmin(tx: Tx, user: UserRow, after: { roles: string[]; status: UserStatus }) {
    const isAdminNow = user.status === 'active' && rolesOf(user).includes('admin');
    const isAdminAfter = after.status === 'active' && after.roles.includes('admin');
    if (isAdminNow && !isAdminAfter && (await identityRepo(tx).countActiveAdmins()) <= 1) {
      throw new AppError(409, IdentityErrors.IDENTITY_LAST_ADMIN, 'This is the last active administrator; make another one first.');
    }
  }

  async function createUser(tx: Tx, input: { email: string; password: string; displayName: string }, roles: Role[]): Promise<UserRow> {
    const email = normaliseEmail(input.email);
    checkPasswordPolicy(input.password, auth.passwordMinLength, { email });
    const at = iso();
    const user = newUserRow({ email, email_verified_at: at, display_name: input.displayName, password_hash: await passwords.hash(input.password), roles: roles.join(',') }, at);
    try {
      await identityRepo(tx).insertUser(user);
    } catch (err) {
      if (isDbError(err, 'unique')) throw new AppError(409, IdentityErrors.IDENTITY_EMAIL_TAKEN, 'An account with this email exists.');
      throw err;
    }
    await events.append(tx, { type: IdentityEvents.userRegistered, scopes: [`user:${user.id}`], payload: { userId: user.id } });
    return user;
  }

  return {
    async listUsers(query: { q?: string; role?: string; status?: 'active' | 'disabled'; kind?: UserRow['kind']; limit?: number; cursor?: string }): Promise<Page<AdminUserView>> {
      const limit = query.limit ?? 20;
      const before = query.cursor ? (cursors.decode(query.cursor).map(String) as [string, string]) : undefined;
      const rows = await identityRepo(db).listUsers({ q: query.q, role: query.role, status: query.status, kind: query.kind, before, limit: limit + 1 });
      return toPage(rows, limit, cursors, (r) => [r.created_at, r.id], adminUserView);
    },

    getUser: async (id: string) => adminUserView(await load(db, id)),

    async updateUser(actorId: string, id: string, expected: number | undefined, patch: { roles?: Role[]; status?: 'active' | 'disabled'; displayName?: string }, client: ClientInfo) {
      return withTransaction(db, async (tx) => {
        const repo = identityRepo(tx);
        const user = await load(tx, id);
        if (expected !== undefined && expected !== user.version) throw versionMismatch(user.version);
        const roles = patch.roles ? [...patch.roles].sort() : rolesOf(user);
        const status = patch.status ?? user.status;
        await keepAnAdmin(tx, user, { roles, status });
        const rolesChanged = roles.join(',') !== rolesOf(user).sort().join(',');
        const statusChanged = status !== user.status;
        const changes = { roles: roles.join(','), status, display_name: patch.displayName?.trim() ?? user.display_name, updated_at: iso() };
        if (!(await repo.updateUser(id, user.version, changes))) throw versionMismatch(user.version + 1);
        const next: UserRow = { ...user, ...changes, version: user.version + 1 };
        // Tokens carry roles: a role change or a disabled account ends the user's sessions everywhere.
        if (rolesChanged) {
          await sessions.revokeAll(tx, id, 'roles-changed');
          await audit(tx, { type: 'admin.roles.changed', actorId, targetId: id, client, details: { from: rolesOf(user), to: roles } });
        }
        if (statusChanged) {
          if (status === 'disabled') await sessions.revokeAll(tx, id, 'account-disabled');
          await audit(tx, { type: status === 'disabled' ? 'admin.user.disabled' : 'admin.user.enabled', actorId, targetId: id, client });
        }
        await events.append<UserUpdatedPayload>(tx, { type: IdentityEvents.userUpdated, scopes: [`user:${id}`], payload: { userId: id, version: next.version, fields: Object.keys(patch) }, actorId });
        return adminUserView(next);
      });
    },

    async endSessions(actorId: string, id: string, client: ClientInfo): Promise<number> {
      return withTransaction(db, async (tx) => {
        await load(tx, id);
        const ended = await sessions.revokeAll(tx, id, 'admin');
        await audit(tx, { type: 'admin.sessions.ended', actorId, targetId: id, client, details: { sessions: ended.length } });
        return ended.length;
      });
    },

    /**
     * GDPR erasure: the account row stays as a tombstone (so ids held elsewhere resolve to "deleted
     * user") but loses every personal field; sessions, tokens and keys go; audit entries keep the
     * pseudonymous id but lose IP and user agent. Other modules erase their data on `identity.user.deleted`.
     */
    async deleteUser(actorId: string, id: string, client: ClientInfo): Promise<void> {
      await withTransaction(db, async (tx) => {
        const repo = identityRepo(tx);
        const user = await load(tx, id);
        await keepAnAdmin(tx, user, { roles: [], status: 'deleted' });
        await sessions.revokeAll(tx, id, 'account-deleted');
        await apiKeys.revokeIn(tx, id, await repo.liveApiKeyIds(id));
        await repo.deleteUserData(id);
        await repo.updateUser(id, user.version, {
          email: `deleted-${id}@invalid.invalid`,
          email_verified_at: null,
          display_name: 'Deleted user',
          time_zone: null,
          password_hash: null,
          roles: '',
          status: 'deleted',
          updated_at: iso(),
          deleted_at: iso(),
        });
        await repo.scrubAuditEvents(id);
        await audit(tx, { type: 'admin.user.deleted', actorId, targetId: id, client });
        await events.append<UserDeletedPayload>(tx, { type: IdentityEvents.userDeleted, scopes: ['system'], payload: { userId: id }, actorId });
      });
    },

    /** Everything the identity module holds about a user, as JSON (GDPR access / portability). */
    async exportUser(actorId: string, id: string, client: ClientInfo) {
      const repo = identityRepo(db);
      const user = await load(db, id);
      const sessionRows = await repo.listLiveSessions(id, '0000', 1000);
      const keys = await apiKeys.list(id, { limit: 100 });
      const auditRows = await repo.listAuditEvents({ userId: id, limit: 1000 });
      await audit(db, { type: 'admin.user.exported', actorId, targetId: id, client });
      return {
        exportedAt: iso(),
        user: adminUserView(user),
        sessions: sessionRows.map((s) => ({ id: s.id, device: s.device, userAgent: s.user_agent, ip: s.ip, createdAt: s.created_at, lastUsedAt: s.last_used_at, expiresAt: s.expires_at, revokedAt: s.revoked_at })),
        apiKeys: keys.items,
        auditEvents: auditRows.map(auditView),
        ...(deps.exportExtras ? await deps.exportExtras(id) : {}),
      };
    },

    async listAudit(query: { userId?: string; type?: string; limit?: number; cursor?: string }): Promise<Page<AuditEventView>> {
      const limit = query.limit ?? 20;
      const beforeId = query.cursor ? String(cursors.decode(query.cursor)[0]) : undefined;
      const rows = await identityRepo(db).listAuditEvents({ userId: query.userId, type: query.type, beforeId, limit: limit + 1 });
      return toPage(rows, limit, cursors, (r) => [r.id], auditView);
    },

    hasAdmin: async () => (await identityRepo(db).countActiveAdmins()) > 0,

    /**
     * A service account: a user that is a program (a grading script, a school's SIS sync). It has
     * roles but no password and no mailbox; it acts only through API keys an admin issues for it.
     */
    async createServiceAccount(actorId: string, input: { displayName: string; roles: Role[] }, client: ClientInfo): Promise<AdminUserView> {
      return withTransaction(db, async (tx) => {
        const at = iso();
        const id = newId('usr');
        const user = newUserRow({ id, kind: 'service', email: `${id}@service-accounts.invalid`, email_verified_at: null, display_name: input.displayName, password_hash: null, roles: [...input.roles].sort().join(',') }, at);
        await identityRepo(tx).insertUser(user);
        await events.append(tx, { type: IdentityEvents.userRegistered, scopes: [`user:${id}`], payload: { userId: id } });
        await audit(tx, { type: 'admin.service-account.created', actorId, targetId: id, client, details: { roles: input.roles } });
        return adminUserView(user);
      });
    },

    /** `lyceum create-admin`: the operator at the console needs no token. */
    createAdmin: (input: { email: string; password: string; displayName: string }) => createAccount(input, ['admin'], 'cli'),

    createAccount,

    /** The first administrator, created through the API with the one-time setup token from the console. */
    async setupFirstAdmin(expectedToken: string, input: { setupToken: string; email: string; password: string; displayName: string }, client: ClientInfo): Promise<AdminUserView> {
      if (!safeEqual(input.setupToken, expectedToken)) throw new AppError(403, IdentityErrors.IDENTITY_SETUP_TOKEN_INVALID, 'The setup token is wrong.');
      return withTransaction(db, async (tx) => {
        const repo = identityRepo(tx);
        if ((await repo.findSetup()) || (await repo.countActiveAdmins()) > 0) {
          throw new AppError(409, IdentityErrors.IDENTITY_SETUP_UNAVAILABLE, 'An administrator exists already; setup is closed.');
        }
        const user = await createUser(tx, input, ['admin']);
        try {
          await repo.insertSetup(user.id, iso()); // the row is the one-time lock
        } catch (err) {
          if (isDbError(err, 'unique')) throw new AppError(409, IdentityErrors.IDENTITY_SETUP_UNAVAILABLE, 'An administrator exists already; setup is closed.');
          throw err;
        }
        await audit(tx, { type: 'admin.created', actorId: null, targetId: user.id, client, details: { via: 'setup-token' } });
        return adminUserView(user);
      });
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;

import { sql, type Kysely } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import { newId } from '../../core/ids.js';
import type {
  ApiKeyRow,
  AuditEventRow,
  IdentityTables,
  LoginThrottleRow,
  MfaChallengeRow,
  PasskeyRow,
  WebauthnChallengeRow,
  TotpRow,
  OneTimePurpose,
  OneTimeTokenRow,
  RefreshTokenRow,
  SessionRow,
  SigningKeyRow,
  UserRow,
  UserStatus,
} from './identity.tables.js';

type Executor = Kysely<IdentityTables>;

type NewUser = Pick<UserRow, 'email' | 'email_verified_at' | 'display_name' | 'password_hash' | 'roles'> & Partial<Pick<UserRow, 'id' | 'kind'>>;

/** A new account's row: registration, admins, service accounts and single sign-on all start here. */
export function newUserRow({ id = newId('usr'), kind = 'person', ...fields }: NewUser, at: string): UserRow {
  return { ...fields, id, kind, display_name: fields.display_name.trim(), time_zone: null, status: 'active', version: 1, created_at: at, updated_at: at, deleted_at: null };
}

export interface UserFilter {
  q?: string;
  role?: string;
  status?: UserStatus;
  kind?: UserRow['kind'];
  /** Keyset: users created before this (createdAt, id). */
  before?: [string, string];
  limit: number;
}

/** Kysely queries on the identity_* tables, and nothing else. `identityRepo(tx)` binds them to a transaction. */
export function identityRepo(handle: Db | Tx) {
  const db = handle as unknown as Executor;
  return {
    // ── users ──────────────────────────────────────────────────────────────
    insertUser: (row: UserRow) => db.insertInto('identity_user').values(row).execute(),
    findUserById: (id: string) => db.selectFrom('identity_user').selectAll().where('id', '=', id).executeTakeFirst(),
    findUserByEmail: (email: string) => db.selectFrom('identity_user').selectAll().where('email', '=', email).executeTakeFirst(),
    /** Updates when the version matches; returns false when it did not (lost a race, or If-Match). */
    async updateUser(id: string, version: number, changes: Partial<Omit<UserRow, 'id' | 'version'>>): Promise<boolean> {
      const result = await db
        .updateTable('identity_user')
        .set({ ...changes, version: version + 1 })
        .where('id', '=', id)
        .where('version', '=', version)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async listUsers(filter: UserFilter): Promise<UserRow[]> {
      let query = db.selectFrom('identity_user').selectAll().where('status', '!=', 'deleted');
      if (filter.q) {
        const pattern = `%${filter.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        query = query.where((eb) =>
          eb.or([eb(sql`lower(email)`, 'like', sql`${pattern} escape '\\'`), eb(sql`lower(display_name)`, 'like', sql`${pattern} escape '\\'`)]),
        );
      }
      if (filter.role) query = query.where(sql`',' || roles || ','`, 'like', `%,${filter.role},%`);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.kind) query = query.where('kind', '=', filter.kind);
      if (filter.before) {
        const [createdAt, id] = filter.before;
        query = query.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]));
      }
      return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    },
    async countActiveAdmins(): Promise<number> {
      const row = await db
        .selectFrom('identity_user')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'active')
        .where(sql`',' || roles || ','`, 'like', '%,admin,%')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    // ── sessions and refresh tokens ──────────────────────────────────────────
    insertSession: (row: SessionRow) => db.insertInto('identity_session').values(row).execute(),
    findSession: (id: string) => db.selectFrom('identity_session').selectAll().where('id', '=', id).executeTakeFirst(),
    /** A session with the status of its user: what the liveness check needs, in one query. */
    sessionLiveness: (id: string) =>
      db
        .selectFrom('identity_session as s')
        .innerJoin('identity_user as u', 'u.id', 's.user_id')
        .select(['s.id', 's.user_id', 's.expires_at', 's.revoked_at', 'u.status'])
        .where('s.id', '=', id)
        .executeTakeFirst(),
    listLiveSessions: (userId: string, now: string, limit: number, beforeId?: string) => {
      let query = db
        .selectFrom('identity_session')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now);
      if (beforeId) query = query.where('id', '<', beforeId);
      return query.orderBy('id', 'desc').limit(limit).execute();
    },
    liveSessionIds: async (userId: string, now: string, exceptId?: string) => {
      let query = db.selectFrom('identity_session').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).where('expires_at', '>', now);
      if (exceptId) query = query.where('id', '!=', exceptId);
      return (await query.execute()).map((r) => r.id);
    },
    touchSession: (id: string, at: string) => db.updateTable('identity_session').set({ last_used_at: at }).where('id', '=', id).execute(),
    markSessionMfa: (id: string, at: string) => db.updateTable('identity_session').set({ mfa_at: at }).where('id', '=', id).execute(),
    /** Revokes those of `ids` still live; returns the ids it revoked. */
    async revokeSessions(ids: string[], at: string, reason: string): Promise<string[]> {
      if (!ids.length) return [];
      const rows = await db
        .updateTable('identity_session')
        .set({ revoked_at: at, revoked_reason: reason })
        .where('id', 'in', ids)
        .where('revoked_at', 'is', null)
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
    insertRefreshToken: (row: RefreshTokenRow) => db.insertInto('identity_refresh_token').values(row).execute(),
    findRefreshToken: (hash: string) =>
      db
        .selectFrom('identity_refresh_token as t')
        .innerJoin('identity_session as s', 's.id', 't.session_id')
        .select(['t.token_hash', 't.session_id', 't.generation', 't.used_at', 's.user_id', 's.revoked_at', 's.expires_at', 's.last_used_at'])
        .where('t.token_hash', '=', hash)
        .executeTakeFirst(),
    /** Marks the token used if nobody did first; true for the one caller that won. */
    async claimRefreshToken(hash: string, at: string): Promise<boolean> {
      const result = await db.updateTable('identity_refresh_token').set({ used_at: at }).where('token_hash', '=', hash).where('used_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    unusedRefreshTokens: (sessionId: string) =>
      db.selectFrom('identity_refresh_token').selectAll().where('session_id', '=', sessionId).where('used_at', 'is', null).execute(),
    deleteSessionsEndedBefore: (before: string) =>
      db
        .deleteFrom('identity_session')
        .where((eb) => eb.or([eb('expires_at', '<', before), eb('revoked_at', '<', before)]))
        .executeTakeFirst(),

    // ── one-time tokens ─────────────────────────────────────────────────────
    insertOneTimeToken: (row: OneTimeTokenRow) => db.insertInto('identity_one_time_token').values(row).execute(),
    findOneTimeToken: (hash: string, purpose: OneTimePurpose) =>
      db.selectFrom('identity_one_time_token').selectAll().where('token_hash', '=', hash).where('purpose', '=', purpose).executeTakeFirst(),
    async useOneTimeToken(hash: string, at: string): Promise<boolean> {
      const result = await db
        .updateTable('identity_one_time_token')
        .set({ used_at: at })
        .where('token_hash', '=', hash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** Voids every unused token of a purpose (a new reset link makes the old ones useless). */
    voidOneTimeTokens: (userId: string, purpose: OneTimePurpose, at: string) =>
      db.updateTable('identity_one_time_token').set({ used_at: at }).where('user_id', '=', userId).where('purpose', '=', purpose).where('used_at', 'is', null).execute(),
    latestOneTimeToken: (userId: string, purpose: OneTimePurpose) =>
      db.selectFrom('identity_one_time_token').selectAll().where('user_id', '=', userId).where('purpose', '=', purpose).orderBy('created_at', 'desc').limit(1).executeTakeFirst(),

    // ── signing keys ────────────────────────────────────────────────────────
    insertSigningKey: (row: SigningKeyRow) => db.insertInto('identity_signing_key').values(row).execute(),
    listSigningKeys: () => db.selectFrom('identity_signing_key').selectAll().orderBy('generation').execute(),
    retireSigningKeysBefore: (generation: number, at: string) =>
      db.updateTable('identity_signing_key').set({ retired_at: at }).where('generation', '<', generation).where('retired_at', 'is', null).execute(),

    // ── login throttling ────────────────────────────────────────────────────
    findThrottles: (keys: string[]) => db.selectFrom('identity_login_throttle').selectAll().where('key', 'in', keys).execute(),
    /** Counts one more failure (starting over when the last one is older than `resetBefore`). */
    async addFailure(key: string, at: string, resetBefore: string): Promise<LoginThrottleRow> {
      await db
        .insertInto('identity_login_throttle')
        .values({ key, failures: 1, last_failure_at: at, locked_until: null })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => ({
            failures: sql<number>`case when ${eb.ref('identity_login_throttle.last_failure_at')} < ${resetBefore} then 1 else ${eb.ref('identity_login_throttle.failures')} + 1 end`,
            last_failure_at: at,
          })),
        )
        .execute();
      return db.selectFrom('identity_login_throttle').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    },
    lockThrottle: (key: string, until: string) => db.updateTable('identity_login_throttle').set({ locked_until: until }).where('key', '=', key).execute(),
    clearThrottle: (key: string) => db.deleteFrom('identity_login_throttle').where('key', '=', key).execute(),

    // ── API keys ────────────────────────────────────────────────────────────
    insertApiKey: (row: ApiKeyRow) => db.insertInto('identity_api_key').values(row).execute(),
    findApiKeyByHash: (hash: string) =>
      db
        .selectFrom('identity_api_key as k')
        .innerJoin('identity_user as u', 'u.id', 'k.user_id')
        .select(['k.id', 'k.user_id', 'k.permissions', 'k.expires_at', 'k.revoked_at', 'k.last_used_at', 'u.roles', 'u.status', 'u.email_verified_at'])
        .where('k.key_hash', '=', hash)
        .executeTakeFirst(),
    findApiKey: (id: string) => db.selectFrom('identity_api_key').selectAll().where('id', '=', id).executeTakeFirst(),
    listApiKeys: (userId: string, limit: number, beforeId?: string) => {
      let query = db.selectFrom('identity_api_key').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null);
      if (beforeId) query = query.where('id', '<', beforeId);
      return query.orderBy('id', 'desc').limit(limit).execute();
    },
    liveApiKeyIds: async (userId: string) =>
      (await db.selectFrom('identity_api_key').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute()).map((r) => r.id),
    revokeApiKeys: async (ids: string[], at: string) => {
      if (!ids.length) return [];
      return (await db.updateTable('identity_api_key').set({ revoked_at: at }).where('id', 'in', ids).where('revoked_at', 'is', null).returning('id').execute()).map((r) => r.id);
    },
    touchApiKey: (id: string, at: string) => db.updateTable('identity_api_key').set({ last_used_at: at }).where('id', '=', id).execute(),

    // ── audit ───────────────────────────────────────────────────────────────
    insertAuditEvent: (row: AuditEventRow) => db.insertInto('identity_audit_event').values(row).execute(),
    listAuditEvents: (filter: { userId?: string; type?: string; beforeId?: string; limit: number }) => {
      let query = db.selectFrom('identity_audit_event').selectAll();
      if (filter.userId) query = query.where((eb) => eb.or([eb('actor_id', '=', filter.userId!), eb('target_id', '=', filter.userId!)]));
      if (filter.type) query = query.where('type', '=', filter.type);
      if (filter.beforeId) query = query.where('id', '<', filter.beforeId);
      return query.orderBy('id', 'desc').limit(filter.limit).execute();
    },
    /** GDPR erasure: audit entries keep the pseudonymous id but lose the network details. */
    scrubAuditEvents: (userId: string) =>
      db
        .updateTable('identity_audit_event')
        .set({ ip: null, user_agent: null })
        .where((eb) => eb.or([eb('actor_id', '=', userId), eb('target_id', '=', userId)]))
        .execute(),

    // ── MFA ──────────────────────────────────────────────────────────────────
    findTotp: (userId: string) => db.selectFrom('identity_totp').selectAll().where('user_id', '=', userId).executeTakeFirst(),
    async putTotp(row: TotpRow) {
      await db.deleteFrom('identity_totp').where('user_id', '=', row.user_id).execute();
      await db.insertInto('identity_totp').values(row).execute();
    },
    confirmTotp: (userId: string, at: string, step: number) => db.updateTable('identity_totp').set({ confirmed_at: at, last_time_step: step }).where('user_id', '=', userId).execute(),
    /** Records the step of an accepted code unless a later or equal one was recorded first (replay, race). */
    async advanceTotpStep(userId: string, step: number): Promise<boolean> {
      const result = await db
        .updateTable('identity_totp')
        .set({ last_time_step: step })
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('last_time_step', 'is', null), eb('last_time_step', '<', step)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    deleteTotp: async (userId: string) => {
      await db.deleteFrom('identity_totp').where('user_id', '=', userId).execute();
      await db.deleteFrom('identity_recovery_code').where('user_id', '=', userId).execute();
    },
    replaceRecoveryCodes: async (userId: string, hashes: string[], at: string) => {
      await db.deleteFrom('identity_recovery_code').where('user_id', '=', userId).execute();
      await db.insertInto('identity_recovery_code').values(hashes.map((code_hash) => ({ code_hash, user_id: userId, created_at: at, used_at: null }))).execute();
    },
    async useRecoveryCode(userId: string, hash: string, at: string): Promise<boolean> {
      const result = await db.updateTable('identity_recovery_code').set({ used_at: at }).where('code_hash', '=', hash).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    countUnusedRecoveryCodes: async (userId: string) =>
      Number((await db.selectFrom('identity_recovery_code').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirstOrThrow()).n),
    insertChallenge: (row: MfaChallengeRow) => db.insertInto('identity_mfa_challenge').values(row).execute(),
    findChallenge: (hash: string) => db.selectFrom('identity_mfa_challenge').selectAll().where('token_hash', '=', hash).executeTakeFirst(),
    failChallenge: (hash: string) => db.updateTable('identity_mfa_challenge').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('token_hash', '=', hash).execute(),
    async useChallenge(hash: string, at: string): Promise<boolean> {
      const result = await db.updateTable('identity_mfa_challenge').set({ used_at: at }).where('token_hash', '=', hash).where('used_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    // ── passkeys ────────────────────────────────────────────────────────────
    insertPasskey: (row: PasskeyRow) => db.insertInto('identity_passkey').values(row).execute(),
    findPasskey: (id: string) => db.selectFrom('identity_passkey').selectAll().where('id', '=', id).executeTakeFirst(),
    findPasskeyByCredential: (credentialId: string) => db.selectFrom('identity_passkey').selectAll().where('credential_id', '=', credentialId).executeTakeFirst(),
    listPasskeys: (userId: string) => db.selectFrom('identity_passkey').selectAll().where('user_id', '=', userId).orderBy('created_at').execute(),
    /** Moves the signature counter forward only (a clone replaying an old counter loses the race). */
    async usePasskey(id: string, counter: number, previous: number, at: string): Promise<boolean> {
      const result = await db.updateTable('identity_passkey').set({ counter, last_used_at: at }).where('id', '=', id).where('counter', '=', previous).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    deletePasskey: (id: string) => db.deleteFrom('identity_passkey').where('id', '=', id).execute(),
    insertWebauthnChallenge: (row: WebauthnChallengeRow) => db.insertInto('identity_webauthn_challenge').values(row).execute(),
    async useWebauthnChallenge(challenge: string, purpose: 'register' | 'login', at: string): Promise<WebauthnChallengeRow | undefined> {
      const row = await db.selectFrom('identity_webauthn_challenge').selectAll().where('challenge', '=', challenge).where('purpose', '=', purpose).executeTakeFirst();
      if (!row || row.used_at || row.expires_at <= at) return undefined;
      const result = await db.updateTable('identity_webauthn_challenge').set({ used_at: at }).where('challenge', '=', challenge).where('used_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1 ? row : undefined;
    },

    // ── first-admin setup ───────────────────────────────────────────────────
    insertSetup: (adminId: string, at: string) => db.insertInto('identity_setup').values({ id: 1, admin_id: adminId, created_at: at }).execute(),
    findSetup: () => db.selectFrom('identity_setup').selectAll().executeTakeFirst(),
    deleteUserData: async (userId: string) => {
      await db.deleteFrom('identity_session').where('user_id', '=', userId).execute();
      await db.deleteFrom('identity_one_time_token').where('user_id', '=', userId).execute();
      await db.deleteFrom('identity_api_key').where('user_id', '=', userId).execute();
      await db.deleteFrom('identity_totp').where('user_id', '=', userId).execute();
      await db.deleteFrom('identity_recovery_code').where('user_id', '=', userId).execute();
      await db.deleteFrom('identity_mfa_challenge').where('user_id', '=', userId).execute();
      await db.deleteFrom('identity_passkey').where('user_id', '=', userId).execute();
      await db.deleteFrom('identity_oidc_link').where('user_id', '=', userId).execute();
      await db.deleteFrom('identity_oidc_login_code').where('user_id', '=', userId).execute();
    },
  };
}

export type IdentityRepo = ReturnType<typeof identityRepo>;

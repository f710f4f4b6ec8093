import type { Clock } from '../../core/clock.js';
import type { AuthConfig } from '../../core/config/config.js';
import type { Db, Tx } from '../../core/db/database.js';
import { isDbError } from '../../core/db/errors.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import { versionMismatch } from '../../core/http/etag.js';
import type { CursorCodec, Page } from '../../core/http/pagination.js';
import { toPage } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import { normaliseTimeZone } from '../../core/time-zone.js';
import type { Mailer } from '../../core/mail/mailer.js';
import type { Audit, ClientInfo } from './audit.js';
import { IdentityErrors, invalidCredentials, tokenInvalid } from './identity.errors.js';
import { IdentityEvents, type UserRegisteredPayload, type UserUpdatedPayload } from './identity.events.js';
import { identityRepo, newUserRow } from './identity.repo.js';
import type { MePatch, SessionView, UserView } from './identity.schemas.js';
import type { OneTimePurpose, SessionRow, UserRow } from './identity.tables.js';
import type { LoginThrottle } from './login-throttle.js';
import { checkPasswordPolicy, type PasswordHasher } from './passwords.js';
import { permissionsOf } from './permissions.js';
import { randomToken, sha256 } from './secrets-util.js';
import { rolesOf, type IssuedTokens, type Sessions } from './sessions.js';

export interface IdentityServiceDeps {
  db: Db;
  clock: Clock;
  events: EventLog;
  mailer: Mailer;
  cursors: CursorCodec;
  auth: AuthConfig;
  publicUrl: string;
  passwords: PasswordHasher;
  sessions: Sessions;
  throttle: LoginThrottle;
  audit: Audit;
  /** Set by the MFA feature: whether a user must pass a second factor after the password. */
  secondFactor?: {
    isEnabled(userId: string): Promise<boolean>;
    challenge(user: UserRow, context: { device?: string }): Promise<LoginResult>;
  };
}

export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

export type LoginResult = { kind: 'tokens'; tokens: IssuedTokens; user: UserRow } | { kind: 'mfa'; challenge: string; methods: string[]; expiresAt: Date };

const RESET_TTL_SECONDS = 30 * 60;

export function userView(user: UserRow, mfaEnabled = false): UserView {
  const roles = rolesOf(user);
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.email_verified_at !== null,
    displayName: user.display_name,
    roles,
    permissions: [...permissionsOf(roles)].sort(),
    mfaEnabled,
    timeZone: user.time_zone,
    createdAt: user.created_at,
    version: user.version,
  };
}

const sessionView = (row: SessionRow, currentId: string | undefined): SessionView => ({
  id: row.id,
  device: row.device,
  userAgent: row.user_agent,
  ip: row.ip,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  expiresAt: row.expires_at,
  current: row.id === currentId,
});

const accepted = (message: string) => ({ status: 'accepted' as const, message });

/** Accounts, sign-in, sessions, email verification and password flows. */
export function createIdentityService(deps: IdentityServiceDeps) {
  const { db, clock, events, mailer, cursors, auth, publicUrl, passwords, sessions, throttle, audit } = deps;
  const now = () => clock.now();
  const iso = () => clock.now().toISOString();

  async function issueOneTimeToken(tx: Tx, userId: string, purpose: OneTimePurpose, ttlSeconds: number, data?: string): Promise<string> {
    const token = randomToken();
    await identityRepo(tx).insertOneTimeToken({
      token_hash: sha256(token),
      user_id: userId,
      purpose,
      data: data ?? null,
      created_at: iso(),
      expires_at: new Date(now().getTime() + ttlSeconds * 1000).toISOString(),
      used_at: null,
    });
    return token;
  }

  async function sendVerification(tx: Tx, user: Pick<UserRow, 'id' | 'email' | 'display_name'>, email = user.email, purpose: OneTimePurpose = 'verify-email') {
    const token = await issueOneTimeToken(tx, user.id, purpose, auth.emailTokenTtl, purpose === 'change-email' ? email : undefined);
    const link = `${publicUrl}/verify-email?token=${encodeURIComponent(token)}`;
    await mailer.send(tx, {
      to: email,
      subject: purpose === 'change-email' ? 'Confirm your new email address' : 'Confirm your email address',
      text: `Hello ${user.display_name},\n\nconfirm this address by opening:\n${link}\n\nThe link works once and expires in ${Math.round(auth.emailTokenTtl / 3600)} hours. If you did not ask for it, ignore this message.\n`,
    });
  }

  async function requireUser(userId: string): Promise<UserRow> {
    const user = await identityRepo(db).findUserById(userId);
    if (!user || user.status === 'deleted') throw new AppError(404, IdentityErrors.IDENTITY_USER_NOT_FOUND, 'No such user.');
    return user;
  }

  async function appendUserUpdated(tx: Tx, user: UserRow, version: number, fields: string[]) {
    await events.append<UserUpdatedPayload>(tx, { type: IdentityEvents.userUpdated, scopes: [`user:${user.id}`], payload: { userId: user.id, version, fields }, actorId: user.id });
  }

  const service = {
    /**
     * Creates an account, or (when the email is taken) tells the owner by mail; the caller cannot
     * tell the two apart: same answer, and the same argon2 work in both cases.
     */
    async register(input: { email: string; password: string; displayName: string }, client: ClientInfo) {
      const email = normaliseEmail(input.email);
      checkPasswordPolicy(input.password, auth.passwordMinLength, { email });
      const passwordHash = await passwords.hash(input.password);
      await withTransaction(db, async (tx) => {
        const repo = identityRepo(tx);
        const existing = await repo.findUserByEmail(email);
        if (existing) {
          await mailer.send(tx, {
            to: email,
            subject: 'Someone tried to register with your address',
            text: `Hello ${existing.display_name},\n\nsomeone (perhaps you) tried to create an account with this address, which already has one. If it was you, sign in or reset your password at ${publicUrl}/forgot-password.\n`,
          });
          return;
        }
        const at = iso();
        const user = newUserRow({ email, email_verified_at: null, display_name: input.displayName, password_hash: passwordHash, roles: 'student' }, at);
        try {
          await repo.insertUser(user);
        } catch (err) {
          if (isDbError(err, 'unique')) return; // registered concurrently: same answer
          throw err;
        }
        await events.append<UserRegisteredPayload>(tx, { type: IdentityEvents.userRegistered, scopes: [`user:${user.id}`], payload: { userId: user.id }, actorId: user.id });
        await audit(tx, { type: 'user.registered', actorId: user.id, targetId: user.id, client });
        await sendVerification(tx, user);
      });
      return accepted('If this address can be used, an email is on its way to it. Confirm the address, then sign in.');
    },

    /** Password sign-in. Unknown emails cost the same argon2 time and get the same answer as wrong passwords. */
    async login(input: { email: string; password: string; device?: string }, client: ClientInfo): Promise<LoginResult> {
      const email = normaliseEmail(input.email);
      await throttle.check(email, client.ip);
      const repo = identityRepo(db);
      const user = await repo.findUserByEmail(email);
      const valid = user?.password_hash && user.status !== 'deleted' ? await passwords.verify(user.password_hash, input.password) : (await passwords.dummyVerify(input.password), false);
      if (!valid || !user) {
        const lock = await throttle.failure(email, client.ip);
        await audit(db, { type: lock ? 'login.locked' : 'login.failed', targetId: user?.id ?? null, client, details: lock ? { lockSeconds: lock } : {} });
        throw invalidCredentials();
      }
      await throttle.success(email, client.ip);
      if (user.status === 'disabled') throw new AppError(403, IdentityErrors.AUTH_ACCOUNT_DISABLED, 'This account is disabled.');
      if (auth.verifiedEmailRequiredFor.includes('login') && !user.email_verified_at) {
        throw new AppError(403, IdentityErrors.AUTH_EMAIL_NOT_VERIFIED, 'Confirm your email address first; POST /auth/email/resend sends the link again.');
      }
      if (passwords.needsRehash(user.password_hash!)) {
        const rehashed = await passwords.hash(input.password);
        await repo.updateUser(user.id, user.version, { password_hash: rehashed, updated_at: iso() });
        user.version += 1;
        user.password_hash = rehashed;
      }
      if (deps.secondFactor && (await deps.secondFactor.isEnabled(user.id))) return deps.secondFactor.challenge(user, { device: input.device });
      return service.startSession(user, client, { device: input.device });
    },

    /** Opens a session for a user who has passed every factor. */
    async startSession(user: UserRow, client: ClientInfo, options: { device?: string; mfa?: boolean; method?: string }): Promise<LoginResult> {
      const created = await withTransaction(db, async (tx) => {
        const session = await sessions.create(tx, user, client, options);
        await audit(tx, { type: 'login.succeeded', actorId: user.id, targetId: user.id, client, details: { sessionId: session.sessionId, method: options.method ?? 'password', mfa: !!options.mfa } });
        return session;
      });
      return { kind: 'tokens', tokens: await sessions.firstTokens(created), user };
    },

    refresh: (token: string, client: ClientInfo) => sessions.refresh(token, client),

    async logout(userId: string, sessionId: string, client: ClientInfo): Promise<void> {
      await withTransaction(db, async (tx) => {
        await sessions.revoke(tx, userId, [sessionId], 'logout');
        await audit(tx, { type: 'logout', actorId: userId, targetId: userId, client, details: { sessionId } });
      });
    },

    async logoutAll(userId: string, client: ClientInfo): Promise<number> {
      return withTransaction(db, async (tx) => {
        const ended = await sessions.revokeAll(tx, userId, 'logout-all');
        await audit(tx, { type: 'logout.all', actorId: userId, targetId: userId, client, details: { sessions: ended.length } });
        return ended.length;
      });
    },

    async listSessions(userId: string, currentId: string | undefined, page: { limit?: number; cursor?: string }): Promise<Page<SessionView>> {
      const limit = page.limit ?? 20;
      const before = page.cursor ? String(cursors.decode(page.cursor)[0]) : undefined;
      const rows = await identityRepo(db).listLiveSessions(userId, iso(), limit + 1, before);
      return toPage(rows, limit, cursors, (r) => [r.id], (r) => sessionView(r, currentId));
    },

    /** Ends one of the caller's own sessions; another user's session is "not found". */
    async endSession(userId: string, sessionId: string, client: ClientInfo): Promise<void> {
      await withTransaction(db, async (tx) => {
        const session = await identityRepo(tx).findSession(sessionId);
        if (!session || session.user_id !== userId || session.revoked_at || session.expires_at <= iso()) {
          throw new AppError(404, IdentityErrors.IDENTITY_SESSION_NOT_FOUND, 'No such session.');
        }
        await sessions.revoke(tx, userId, [sessionId], 'revoked-by-user');
        await audit(tx, { type: 'session.revoked', actorId: userId, targetId: userId, client, details: { sessionId } });
      });
    },

    async me(userId: string): Promise<UserView> {
      const user = await requireUser(userId);
      return userView(user, deps.secondFactor ? await deps.secondFactor.isEnabled(userId) : false);
    },

    async updateMe(userId: string, expected: number | undefined, patch: MePatch): Promise<UserView> {
      const timeZone = patch.timeZone ? normaliseTimeZone(patch.timeZone) : patch.timeZone;
      if (patch.timeZone && !timeZone) {
        throw new AppError(422, IdentityErrors.IDENTITY_TIME_ZONE_INVALID, `Unknown time zone "${patch.timeZone}"; use an IANA name such as Europe/Paris.`, { errors: [{ path: '/body/timeZone', message: 'unknown IANA time zone' }] });
      }
      const user = await withTransaction(db, async (tx) => {
        const repo = identityRepo(tx);
        const current = await repo.findUserById(userId);
        if (!current || current.status === 'deleted') throw new AppError(404, IdentityErrors.IDENTITY_USER_NOT_FOUND, 'No such user.');
        if (expected !== undefined && expected !== current.version) throw versionMismatch(current.version);
        const changes = {
          display_name: patch.displayName?.trim() ?? current.display_name,
          time_zone: timeZone === undefined ? current.time_zone : timeZone,
          updated_at: iso(),
        };
        if (!(await repo.updateUser(userId, current.version, changes))) throw versionMismatch(current.version + 1);
        const next = { ...current, ...changes, version: current.version + 1 };
        await appendUserUpdated(tx, next, next.version, Object.keys(patch));
        return next;
      });
      return service.me(user.id);
    },

    /** Confirms an address: the one registered with, or a new one asked for by "change email". */
    async verifyEmail(token: string, client: ClientInfo): Promise<UserView> {
      const hash = sha256(token);
      const userId = await withTransaction(db, async (tx) => {
        const repo = identityRepo(tx);
        const found = (await repo.findOneTimeToken(hash, 'verify-email')) ?? (await repo.findOneTimeToken(hash, 'change-email'));
        if (!found || !(await repo.useOneTimeToken(hash, iso()))) throw tokenInvalid();
        const user = await repo.findUserById(found.user_id);
        if (!user || user.status !== 'active') throw tokenInvalid();
        const changes: Partial<UserRow> = { email_verified_at: iso(), updated_at: iso() };
        if (found.purpose === 'change-email') changes.email = found.data!;
        else if (user.email_verified_at) return user.id;
        try {
          if (!(await repo.updateUser(user.id, user.version, changes))) throw new AppError(409, 'CONFLICT', 'The account changed meanwhile; open the link again.');
        } catch (err) {
          if (isDbError(err, 'unique')) throw new AppError(409, IdentityErrors.IDENTITY_EMAIL_TAKEN, 'Another account uses this address now.');
          throw err;
        }
        if (found.purpose === 'change-email') {
          await audit(tx, { type: 'email.changed', actorId: user.id, targetId: user.id, client, details: {} });
          await mailer.send(tx, { to: user.email, subject: 'Your email address was changed', text: `Hello ${user.display_name},\n\nthe email address of your account is now ${found.data}. If you did not do this, contact us at once.\n` });
        } else {
          await audit(tx, { type: 'email.verified', actorId: user.id, targetId: user.id, client });
        }
        await appendUserUpdated(tx, user, user.version + 1, ['email']);
        return user.id;
      });
      return service.me(userId);
    },

    /**
     * Sends the verification link again. Signed in: for the caller, with 429 during the cool-down.
     * Anonymous (by email): always the same 202, the cool-down applied silently.
     */
    async resendVerification(target: { userId?: string; email?: string }) {
      const repo = identityRepo(db);
      const user = target.userId ? await repo.findUserById(target.userId) : target.email ? await repo.findUserByEmail(normaliseEmail(target.email)) : undefined;
      const done = accepted('If the address is waiting for confirmation, a new link is on its way.');
      if (!user || user.status !== 'active' || user.email_verified_at) return done;
      const last = await repo.latestOneTimeToken(user.id, 'verify-email');
      const wait = last ? Math.ceil((Date.parse(last.created_at) + auth.emailResendCooldown * 1000 - now().getTime()) / 1000) : 0;
      if (wait > 0) {
        if (target.userId) throw new AppError(429, IdentityErrors.IDENTITY_RESEND_TOO_SOON, `Wait ${wait} s before asking again.`, { headers: { 'retry-after': String(wait) } });
        return done;
      }
      await withTransaction(db, async (tx) => {
        await identityRepo(tx).voidOneTimeTokens(user.id, 'verify-email', iso());
        await sendVerification(tx, user);
      });
      return done;
    },

    /** Always the same answer; a reset link (valid 30 minutes, once) goes only to an existing account. */
    async forgotPassword(emailInput: string, client: ClientInfo) {
      const email = normaliseEmail(emailInput);
      const user = await identityRepo(db).findUserByEmail(email);
      // Service accounts have no password and no mailbox.
      if (user && user.status === 'active' && user.kind === 'person') {
        await withTransaction(db, async (tx) => {
          const repo = identityRepo(tx);
          const last = await repo.latestOneTimeToken(user.id, 'reset-password');
          // At most one mail a minute, so the form cannot be used to flood someone's inbox.
          if (last && Date.parse(last.created_at) > now().getTime() - 60_000) return;
          await repo.voidOneTimeTokens(user.id, 'reset-password', iso());
          const token = await issueOneTimeToken(tx, user.id, 'reset-password', RESET_TTL_SECONDS);
          await mailer.send(tx, {
            to: user.email,
            subject: 'Reset your password',
            text: `Hello ${user.display_name},\n\nchoose a new password here:\n${publicUrl}/reset-password?token=${encodeURIComponent(token)}\n\nThe link works once, for 30 minutes. Resetting signs you out everywhere. If you did not ask for this, ignore this message.\n`,
          });
          await audit(tx, { type: 'password.reset.requested', targetId: user.id, client });
        });
      }
      return accepted('If an account uses this address, a link to reset its password is on its way.');
    },

    /** Sets a new password from a reset link and ends every session of the account. */
    async resetPassword(token: string, newPassword: string, client: ClientInfo): Promise<void> {
      const hash = sha256(token);
      const found = await identityRepo(db).findOneTimeToken(hash, 'reset-password');
      if (!found || found.used_at || found.expires_at <= iso()) throw tokenInvalid();
      const user = await requireUser(found.user_id);
      checkPasswordPolicy(newPassword, auth.passwordMinLength, { email: user.email });
      const passwordHash = await passwords.hash(newPassword);
      await withTransaction(db, async (tx) => {
        const repo = identityRepo(tx);
        if (!(await repo.useOneTimeToken(hash, iso()))) throw tokenInvalid();
        const current = await repo.findUserById(user.id);
        if (!current || current.status !== 'active') throw tokenInvalid();
        // Following the link proves the address too.
        await repo.updateUser(current.id, current.version, { password_hash: passwordHash, email_verified_at: current.email_verified_at ?? iso(), updated_at: iso() });
        await sessions.revokeAll(tx, current.id, 'password-reset');
        await audit(tx, { type: 'password.reset', actorId: current.id, targetId: current.id, client });
        await mailer.send(tx, { to: current.email, subject: 'Your password was reset', text: `Hello ${current.display_name},\n\nyour password was just reset and every session was signed out. If this was not you, reset it again and contact us.\n` });
      });
    },

    /** Needs the current password; ends every other session (the one asking stays signed in). */
    async changePassword(userId: string, sessionId: string | undefined, input: { currentPassword: string; newPassword: string }, client: ClientInfo): Promise<void> {
      const user = await requireUser(userId);
      if (!user.password_hash || !(await passwords.verify(user.password_hash, input.currentPassword))) throw invalidCredentials();
      checkPasswordPolicy(input.newPassword, auth.passwordMinLength, { email: user.email });
      const passwordHash = await passwords.hash(input.newPassword);
      await withTransaction(db, async (tx) => {
        const repo = identityRepo(tx);
        const current = await repo.findUserById(userId);
        if (!current || !(await repo.updateUser(userId, current.version, { password_hash: passwordHash, updated_at: iso() }))) throw versionMismatch(user.version);
        await sessions.revokeAll(tx, userId, 'password-changed', sessionId);
        await audit(tx, { type: 'password.changed', actorId: userId, targetId: userId, client });
        await mailer.send(tx, { to: current.email, subject: 'Your password was changed', text: `Hello ${current.display_name},\n\nyour password was changed and your other sessions were signed out. If this was not you, reset your password at ${publicUrl}/forgot-password.\n` });
      });
    },

    /** Re-authenticates with the password, then mails a confirmation link to the new address. */
    async changeEmail(userId: string, input: { password: string; newEmail: string }, client: ClientInfo) {
      const user = await requireUser(userId);
      if (!user.password_hash || !(await passwords.verify(user.password_hash, input.password))) throw invalidCredentials();
      const newEmail = normaliseEmail(input.newEmail);
      await withTransaction(db, async (tx) => {
        const repo = identityRepo(tx);
        // A taken address gets the same answer (no enumeration); the link would fail anyway.
        if (newEmail === user.email || (await repo.findUserByEmail(newEmail))) return;
        await repo.voidOneTimeTokens(userId, 'change-email', iso());
        await sendVerification(tx, user, newEmail, 'change-email');
        await audit(tx, { type: 'email.change.requested', actorId: userId, targetId: userId, client });
        await mailer.send(tx, { to: user.email, subject: 'Email change requested', text: `Hello ${user.display_name},\n\nsomeone signed in as you asked to move your account to another address. If this was not you, change your password now.\n` });
      });
      return accepted('A confirmation link is on its way to the new address; the change happens when it is opened.');
    },

    requireUser,
  };
  return service;
}

export type IdentityService = ReturnType<typeof createIdentityService>;

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import type { Clock } from '../../core/clock.js';
import type { Db, Tx } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { Principal } from '../../core/http/access.js';
import { AppError } from '../../core/http/problem.js';
import type { Audit, ClientInfo } from './audit.js';
import { IdentityErrors, invalidCredentials } from './identity.errors.js';
import { identityRepo } from './identity.repo.js';
import type { IdentityService, LoginResult } from './identity.service.js';
import type { UserRow } from './identity.tables.js';
import type { PasswordHasher } from './passwords.js';
import { hmac, randomToken, sha256 } from './secrets-util.js';

const CHALLENGE_TTL_MS = 5 * 60_000;
const CHALLENGE_MAX_ATTEMPTS = 5;
const RECOVERY_CODES = 10;
/** One 30-second step either way, for phone clocks that drift. */
const TOLERANCE_SECONDS = 30;

export const MfaErrors = {
  MFA_INVALID_CODE: 'AUTH_MFA_INVALID_CODE',
  MFA_CHALLENGE_INVALID: 'AUTH_MFA_CHALLENGE_INVALID',
  MFA_ALREADY_ENABLED: 'IDENTITY_MFA_ALREADY_ENABLED',
  MFA_NOT_ENABLED: 'IDENTITY_MFA_NOT_ENABLED',
  STEP_UP_REQUIRED: 'AUTH_STEP_UP_REQUIRED',
} as const;

const invalidCode = () => new AppError(401, MfaErrors.MFA_INVALID_CODE, 'The code is wrong or was already used.');

/** AES-256-GCM, for the TOTP secret, which the server must be able to read back. */
function sealer(keyMaterial: string) {
  const key = createHash('sha256').update(keyMaterial).digest();
  return {
    seal(plain: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.');
    },
    open(sealed: string): string {
      const [iv, tag, data] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
      const decipher = createDecipheriv('aes-256-gcm', key, iv!);
      decipher.setAuthTag(tag!);
      return Buffer.concat([decipher.update(data!), decipher.final()]).toString('utf8');
    },
  };
}

/** Recovery codes read well aloud and on paper: 10 characters from an unambiguous alphabet, grouped. */
function recoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(10);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

const normaliseRecovery = (code: string) => code.trim().toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * TOTP (RFC 6238) as a second factor, with ten single-use recovery codes stored as keyed hashes.
 * A password login of an enrolled user returns a challenge; the challenge plus a code opens the session.
 * Each accepted code's time step is recorded, so a code works once even within its 30 seconds.
 */
export function createMfa(deps: { db: Db; clock: Clock; audit: Audit; passwords: PasswordHasher; issuer: string; secretKey: string; stepUpSeconds: number; service: () => IdentityService }) {
  const { db, clock, audit, passwords } = deps;
  const box = sealer(deps.secretKey);
  const codeHash = (userId: string, code: string) => hmac(deps.secretKey, `${userId}:${normaliseRecovery(code)}`);
  const epoch = () => Math.floor(clock.now().getTime() / 1000);

  async function check(secret: string, code: string, afterTimeStep: number | null) {
    if (!/^\d{6}$/.test(code)) return undefined;
    const result = await verifyTotp({ secret, token: code, epoch: epoch(), epochTolerance: TOLERANCE_SECONDS, ...(afterTimeStep !== null ? { afterTimeStep } : {}) });
    // timeStep is the step that matched (drift included).
    return result.valid ? (result as unknown as { timeStep: number }).timeStep : undefined;
  }

  async function newRecoveryCodes(userId: string, tx: Db | Tx = db): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
    await identityRepo(tx).replaceRecoveryCodes(userId, codes.map((c) => codeHash(userId, c)), clock.now().toISOString());
    return codes;
  }

  async function requirePassword(userId: string, password: string): Promise<UserRow> {
    const user = await identityRepo(db).findUserById(userId);
    if (!user?.password_hash || !(await passwords.verify(user.password_hash, password))) throw invalidCredentials();
    return user;
  }

  return {
    async isEnabled(userId: string): Promise<boolean> {
      return !!(await identityRepo(db).findTotp(userId))?.confirmed_at;
    },

    /** Starts enrolment (password re-authentication): the secret and an otpauth:// URI for the QR code. */
    async setup(userId: string, password: string) {
      const user = await requirePassword(userId, password);
      const existing = await identityRepo(db).findTotp(userId);
      if (existing?.confirmed_at) throw new AppError(409, MfaErrors.MFA_ALREADY_ENABLED, 'TOTP is already enabled; disable it first.');
      const secret = generateSecret();
      await identityRepo(db).putTotp({ user_id: userId, secret_encrypted: box.seal(secret), confirmed_at: null, last_time_step: null, created_at: clock.now().toISOString() });
      return { secret, otpauthUri: generateURI({ issuer: deps.issuer, label: user.email, secret }) };
    },

    /** Finishes enrolment with a first code; returns the ten recovery codes, shown this once. */
    async confirm(userId: string, code: string, client: ClientInfo) {
      const row = await identityRepo(db).findTotp(userId);
      if (!row || row.confirmed_at) throw new AppError(409, MfaErrors.MFA_NOT_ENABLED, 'Start with POST /auth/mfa/totp/setup.');
      const step = await check(box.open(row.secret_encrypted), code, null);
      if (step === undefined) throw invalidCode();
      return withTransaction(db, async (tx) => {
        await identityRepo(tx).confirmTotp(userId, clock.now().toISOString(), step);
        await audit(tx, { type: 'mfa.enabled', actorId: userId, targetId: userId, client, details: { method: 'totp' } });
        return { recoveryCodes: await newRecoveryCodes(userId, tx) };
      });
    },

    async disable(userId: string, input: { password: string; code: string }, client: ClientInfo) {
      await requirePassword(userId, input.password);
      const row = await identityRepo(db).findTotp(userId);
      if (!row?.confirmed_at) throw new AppError(409, MfaErrors.MFA_NOT_ENABLED, 'TOTP is not enabled.');
      if (!(await this.acceptCode(userId, input.code))) throw invalidCode();
      await withTransaction(db, async (tx) => {
        await identityRepo(tx).deleteTotp(userId);
        await audit(tx, { type: 'mfa.disabled', actorId: userId, targetId: userId, client, details: { method: 'totp' } });
      });
    },

    async regenerateRecoveryCodes(userId: string, code: string) {
      if (!(await this.isEnabled(userId))) throw new AppError(409, MfaErrors.MFA_NOT_ENABLED, 'TOTP is not enabled.');
      if (!(await this.acceptCode(userId, code))) throw invalidCode();
      return { recoveryCodes: await newRecoveryCodes(userId) };
    },

    /** A TOTP code or an unused recovery code; true once per code. */
    async acceptCode(userId: string, code: string, client?: ClientInfo): Promise<boolean> {
      const repo = identityRepo(db);
      const row = await repo.findTotp(userId);
      if (!row?.confirmed_at) return false;
      const step = await check(box.open(row.secret_encrypted), code.trim(), row.last_time_step);
      if (step !== undefined) return repo.advanceTotpStep(userId, step);
      if (await repo.useRecoveryCode(userId, codeHash(userId, code), clock.now().toISOString())) {
        await audit(db, { type: 'mfa.recovery.used', actorId: userId, targetId: userId, client, details: { remaining: await repo.countUnusedRecoveryCodes(userId) } });
        return true;
      }
      return false;
    },

    /** Called by login after the password: a short-lived, single-use challenge instead of tokens. */
    async challenge(user: UserRow, context: { device?: string }): Promise<LoginResult> {
      const token = randomToken('lym_');
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + CHALLENGE_TTL_MS);
      await identityRepo(db).insertChallenge({ token_hash: sha256(token), user_id: user.id, device: context.device ?? null, attempts: 0, created_at: now.toISOString(), expires_at: expiresAt.toISOString(), used_at: null });
      return { kind: 'mfa', challenge: token, methods: ['totp', 'recovery-code'], expiresAt };
    },

    /** The second step of login: challenge + code → a session. Five wrong codes spend the challenge. */
    async completeLogin(challenge: string, code: string, client: ClientInfo): Promise<LoginResult> {
      const repo = identityRepo(db);
      const hash = sha256(challenge);
      const row = await repo.findChallenge(hash);
      const invalid = () => new AppError(401, MfaErrors.MFA_CHALLENGE_INVALID, 'The sign-in challenge is invalid or expired; sign in again.');
      if (!row || row.used_at || row.expires_at <= clock.now().toISOString() || row.attempts >= CHALLENGE_MAX_ATTEMPTS) throw invalid();
      if (!(await this.acceptCode(row.user_id, code, client))) {
        await repo.failChallenge(hash);
        await audit(db, { type: 'login.failed', targetId: row.user_id, client, details: { stage: 'mfa' } });
        throw invalidCode();
      }
      if (!(await repo.useChallenge(hash, clock.now().toISOString()))) throw invalid();
      const user = await repo.findUserById(row.user_id);
      if (!user || user.status !== 'active') throw invalid();
      return deps.service().startSession(user, client, { device: row.device ?? undefined, mfa: true, method: 'password+totp' });
    },

    /** Proves the second factor again inside a session, for the sensitive actions that follow. */
    async stepUp(userId: string, sessionId: string, code: string, client: ClientInfo): Promise<void> {
      if (!(await this.isEnabled(userId))) throw new AppError(409, MfaErrors.MFA_NOT_ENABLED, 'TOTP is not enabled.');
      if (!(await this.acceptCode(userId, code, client))) {
        await audit(db, { type: 'mfa.step-up.failed', actorId: userId, targetId: userId, client, details: { sessionId } });
        throw invalidCode();
      }
      await identityRepo(db).markSessionMfa(sessionId, clock.now().toISOString());
    },

    /**
     * The check core runs before sensitive routes: an account with a second factor must have passed
     * it (at sign-in or by step-up) within the window. API keys are exempt: creating one needed it.
     */
    async assertFresh(principal: Principal): Promise<void> {
      if (principal.kind !== 'user' || !principal.sessionId || !(await this.isEnabled(principal.userId))) return;
      const session = await identityRepo(db).findSession(principal.sessionId);
      const fresh = session?.mfa_at && clock.now().getTime() - Date.parse(session.mfa_at) <= deps.stepUpSeconds * 1000;
      if (!fresh) throw new AppError(403, MfaErrors.STEP_UP_REQUIRED, 'Confirm this action with your second factor first: POST /auth/mfa/step-up with a current code.');
    },

    async exportData(userId: string) {
      const row = await identityRepo(db).findTotp(userId);
      return { mfa: { totpEnabled: !!row?.confirmed_at, totpEnabledAt: row?.confirmed_at ?? null, recoveryCodesLeft: await identityRepo(db).countUnusedRecoveryCodes(userId) } };
    },
  };
}

export type Mfa = ReturnType<typeof createMfa>;

import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db/database.js';
import { isDbError } from '../../core/db/errors.js';
import { withTransaction } from '../../core/db/transaction.js';
import { newId } from '../../core/ids.js';
import { AppError } from '../../core/http/problem.js';
import type { Audit, ClientInfo } from './audit.js';
import { IdentityErrors } from './identity.errors.js';
import { identityRepo } from './identity.repo.js';
import type { IdentityService, LoginResult } from './identity.service.js';
import type { PasskeyRow } from './identity.tables.js';

const CEREMONY_TTL_MS = 5 * 60_000;

export const PasskeyErrors = {
  PASSKEY_VERIFICATION_FAILED: 'AUTH_PASSKEY_VERIFICATION_FAILED',
  PASSKEY_NOT_FOUND: 'IDENTITY_PASSKEY_NOT_FOUND',
  PASSKEY_EXISTS: 'IDENTITY_PASSKEY_EXISTS',
} as const;

const failed = (detail = 'The passkey could not be verified.') => new AppError(401, PasskeyErrors.PASSKEY_VERIFICATION_FAILED, detail);

export interface PasskeyView {
  id: string;
  name: string;
  deviceType: string;
  backedUp: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

const view = (row: PasskeyRow): PasskeyView => ({ id: row.id, name: row.name, deviceType: row.device_type, backedUp: row.backed_up === 1, createdAt: row.created_at, lastUsedAt: row.last_used_at });

/** The challenge a ceremony's response answers, read from its clientDataJSON (checked again by the library). */
function challengeOf(clientDataJSON: string): string {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    if (typeof data.challenge === 'string' && data.challenge.length <= 200) return data.challenge;
  } catch {
    // fall through
  }
  throw failed('The response is malformed.');
}

/**
 * Passkeys (WebAuthn) with @simplewebauthn/server: several per account, sign-in with one (which
 * counts as two factors: possession and the device's user verification), list and remove. Every
 * ceremony's challenge is stored, expires in five minutes and is spent by its first answer.
 */
export function createPasskeys(deps: { db: Db; clock: Clock; audit: Audit; rpId: string; rpName: string; origins: string[]; service: () => IdentityService }) {
  const { db, clock, audit, rpId, origins } = deps;
  const iso = () => clock.now().toISOString();
  const expiry = () => new Date(clock.now().getTime() + CEREMONY_TTL_MS).toISOString();

  return {
    async registrationOptions(userId: string) {
      const repo = identityRepo(db);
      const user = await repo.findUserById(userId);
      if (!user || user.status !== 'active') throw new AppError(404, IdentityErrors.IDENTITY_USER_NOT_FOUND, 'No such user.');
      const existing = await repo.listPasskeys(userId);
      const options = await generateRegistrationOptions({
        rpName: deps.rpName,
        rpID: rpId,
        userName: user.email,
        userID: new TextEncoder().encode(user.id),
        userDisplayName: user.display_name,
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: JSON.parse(p.transports) as string[] })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
        timeout: CEREMONY_TTL_MS,
      });
      await repo.insertWebauthnChallenge({ challenge: options.challenge, purpose: 'register', user_id: userId, expires_at: expiry(), used_at: null });
      return options;
    },

    async register(userId: string, response: RegistrationResponseJSON, name: string | undefined, client: ClientInfo): Promise<PasskeyView> {
      const repo = identityRepo(db);
      const challenge = challengeOf(response.response.clientDataJSON);
      const row = await repo.useWebauthnChallenge(challenge, 'register', iso());
      if (!row || row.user_id !== userId) throw failed('The registration ceremony is unknown, expired or already used; start again.');
      let verification;
      try {
        verification = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: origins, expectedRPID: rpId, requireUserVerification: false });
      } catch (err) {
        throw failed(err instanceof Error ? err.message : undefined);
      }
      if (!verification.verified) throw failed();
      const info = verification.registrationInfo;
      const passkey: PasskeyRow = {
        id: newId('pky'),
        credential_id: info.credential.id,
        user_id: userId,
        name: name?.trim() || 'Passkey',
        public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
        counter: info.credential.counter,
        transports: JSON.stringify(info.credential.transports ?? []),
        device_type: info.credentialDeviceType,
        backed_up: info.credentialBackedUp ? 1 : 0,
        created_at: iso(),
        last_used_at: null,
      };
      await withTransaction(db, async (tx) => {
        try {
          await identityRepo(tx).insertPasskey(passkey);
        } catch (err) {
          if (isDbError(err, 'unique')) throw new AppError(409, PasskeyErrors.PASSKEY_EXISTS, 'This passkey is registered already.');
          throw err;
        }
        await audit(tx, { type: 'passkey.added', actorId: userId, targetId: userId, client, details: { passkeyId: passkey.id, name: passkey.name } });
      });
      return view(passkey);
    },

    async loginOptions() {
      const options = await generateAuthenticationOptions({ rpID: rpId, userVerification: 'preferred', timeout: CEREMONY_TTL_MS });
      await identityRepo(db).insertWebauthnChallenge({ challenge: options.challenge, purpose: 'login', user_id: null, expires_at: expiry(), used_at: null });
      return options;
    },

    async login(response: AuthenticationResponseJSON, client: ClientInfo, options: { device?: string }): Promise<LoginResult> {
      const repo = identityRepo(db);
      const challenge = challengeOf(response.response.clientDataJSON);
      if (!(await repo.useWebauthnChallenge(challenge, 'login', iso()))) throw failed('The sign-in ceremony is unknown, expired or already used; start again.');
      const passkey = response.id.length <= 1400 ? await repo.findPasskeyByCredential(response.id) : undefined;
      if (!passkey) throw failed();
      let verification;
      try {
        verification = await verifyAuthenticationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: origins,
          expectedRPID: rpId,
          credential: { id: passkey.credential_id, publicKey: new Uint8Array(Buffer.from(passkey.public_key, 'base64url')), counter: passkey.counter, transports: JSON.parse(passkey.transports) as string[] as never },
          requireUserVerification: false,
        });
      } catch {
        throw failed();
      }
      if (!verification.verified) throw failed();
      if (response.response.userHandle && Buffer.from(response.response.userHandle, 'base64url').toString('utf8') !== passkey.user_id) throw failed();
      if (!(await repo.usePasskey(passkey.id, verification.authenticationInfo.newCounter, passkey.counter, iso()))) throw failed();
      const user = await repo.findUserById(passkey.user_id);
      if (!user || user.status === 'deleted') throw failed();
      if (user.status === 'disabled') throw new AppError(403, IdentityErrors.AUTH_ACCOUNT_DISABLED, 'This account is disabled.');
      return deps.service().startSession(user, client, { device: options.device, mfa: true, method: 'passkey' });
    },

    list: async (userId: string) => (await identityRepo(db).listPasskeys(userId)).map(view),

    async remove(userId: string, id: string, client: ClientInfo): Promise<void> {
      await withTransaction(db, async (tx) => {
        const repo = identityRepo(tx);
        const row = await repo.findPasskey(id);
        if (!row || row.user_id !== userId) throw new AppError(404, PasskeyErrors.PASSKEY_NOT_FOUND, 'No such passkey.');
        await repo.deletePasskey(id);
        await audit(tx, { type: 'passkey.removed', actorId: userId, targetId: userId, client, details: { passkeyId: id } });
      });
    },
  };
}

export type Passkeys = ReturnType<typeof createPasskeys>;

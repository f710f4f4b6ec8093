import { hash, verify } from '@node-rs/argon2';
import { AppError } from '../../core/http/problem.js';
import { isCommonPassword } from './common-passwords.js';
import { IdentityErrors } from './identity.errors.js';

/** Longest accepted password (code points). The schema also caps it, and the body limit is small. */
export const PASSWORD_MAX_LENGTH = 1024;

export interface PasswordHasher {
  /** argon2id on libuv's thread pool: never blocks the event loop. */
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the time of a verification against nothing: unknown accounts answer as slowly as known ones. */
  dummyVerify(password: string): Promise<void>;
  /** True when `hash` was made with other parameters than today's (re-hash it at the next login). */
  needsRehash(hash: string): boolean;
}

export interface HashParameters {
  memoryCost: number;
  timeCost: number;
}

/** Unicode passwords compare as what the user typed, whatever the keyboard's normal form. */
const normalise = (password: string) => password.normalize('NFC');

export function createPasswordHasher({ memoryCost, timeCost }: HashParameters): PasswordHasher {
  // 2 is Algorithm.Argon2id (a const enum, which isolated modules cannot import).
  const options = { algorithm: 2, memoryCost, timeCost, parallelism: 1 };
  const marker = `$argon2id$v=19$m=${memoryCost},t=${timeCost},p=1$`;
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => hash(normalise(password), options),
    verify: async (stored, password) => {
      try {
        return await verify(stored, normalise(password));
      } catch {
        return false;
      }
    },
    async dummyVerify(password) {
      dummy ??= hash('lyceum-dummy-password', options);
      await verify(await dummy, normalise(password)).catch(() => false);
    },
    needsRehash: (stored) => !stored.startsWith(marker),
  };
}

/** The password policy: a minimum length, a maximum far above any real password, and no common ones. */
export function checkPasswordPolicy(password: string, minLength: number, context: { email?: string } = {}): void {
  const length = [...normalise(password)].length;
  if (length < minLength) {
    throw new AppError(422, IdentityErrors.IDENTITY_PASSWORD_TOO_SHORT, `The password needs at least ${minLength} characters.`, {
      errors: [{ path: '/body/password', message: `must have at least ${minLength} characters` }],
    });
  }
  if (length > PASSWORD_MAX_LENGTH) {
    throw new AppError(422, IdentityErrors.IDENTITY_PASSWORD_TOO_LONG, `The password may have at most ${PASSWORD_MAX_LENGTH} characters.`);
  }
  const lower = password.toLowerCase();
  const local = context.email?.split('@')[0]?.toLowerCase();
  if (isCommonPassword(password) || (local && local.length >= 4 && lower === local) || lower === context.email?.toLowerCase()) {
    throw new AppError(422, IdentityErrors.IDENTITY_PASSWORD_TOO_COMMON, 'This password is too common or too easy to guess; choose another.', {
      errors: [{ path: '/body/password', message: 'is on the list of common passwords' }],
    });
  }
}

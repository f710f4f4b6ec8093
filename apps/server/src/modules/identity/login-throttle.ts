import type { Clock } from '../../core/clock.js';
import type { AuthConfig } from '../../core/config/config.js';
import type { Db } from '../../core/db/database.js';
import { AppError } from '../../core/http/problem.js';
import { IdentityErrors } from './identity.errors.js';
import { identityRepo } from './identity.repo.js';
import { sha256 } from './secrets-util.js';

const MAX_LOCK_SECONDS = 3600;
/** Failures older than this are forgiven: the count starts over. */
const FORGET_AFTER_MS = 24 * 3600_000;

/**
 * Failed logins are counted per (account, IP) pair and per IP. A pair that fails too often is locked
 * for a while that doubles with every further failure; so is an IP that fails across many accounts.
 * The account itself is never locked: its owner, on another network, still gets in. The account is
 * keyed by a hash of the normalised email, so unknown addresses are throttled like known ones.
 */
export function createLoginThrottle({ db, clock, auth }: { db: Db; clock: Clock; auth: AuthConfig }) {
  const pairKey = (email: string, ip: string) => `pair:${sha256(email)}:${ip}`;
  const ipKey = (ip: string) => `ip:${ip}`;
  const lockSeconds = (failures: number, threshold: number) =>
    Math.min(MAX_LOCK_SECONDS, auth.loginLockSeconds * 2 ** Math.min(20, Math.max(0, failures - threshold)));

  const locked = (retryAfter: number) =>
    new AppError(429, IdentityErrors.AUTH_LOGIN_LOCKED, `Too many failed sign-ins from this network; try again in ${retryAfter} s.`, {
      headers: { 'retry-after': String(retryAfter) },
    });

  return {
    /** Throws 429 while the pair or the IP is locked; the password is not even checked then. */
    async check(email: string, ip: string): Promise<void> {
      const now = clock.now().getTime();
      const rows = await identityRepo(db).findThrottles([pairKey(email, ip), ipKey(ip)]);
      const until = Math.max(0, ...rows.map((r) => (r.locked_until ? Date.parse(r.locked_until) : 0)));
      if (until > now) throw locked(Math.ceil((until - now) / 1000));
    },
    /** Counts a failure; returns the lock it caused, if any (seconds). */
    async failure(email: string, ip: string): Promise<number | undefined> {
      const now = clock.now();
      const repo = identityRepo(db);
      const resetBefore = new Date(now.getTime() - FORGET_AFTER_MS).toISOString();
      let lock: number | undefined;
      for (const [key, threshold] of [
        [pairKey(email, ip), auth.loginLockThreshold],
        [ipKey(ip), auth.ipLockThreshold],
      ] as const) {
        const row = await repo.addFailure(key, now.toISOString(), resetBefore);
        if (row.failures >= threshold) {
          const seconds = lockSeconds(row.failures, threshold);
          await repo.lockThrottle(key, new Date(now.getTime() + seconds * 1000).toISOString());
          lock = Math.max(lock ?? 0, seconds);
        }
      }
      return lock;
    },
    /** A successful login forgives the pair (not the IP: one good account does not clear a spray). */
    async success(email: string, ip: string): Promise<void> {
      await identityRepo(db).clearThrottle(pairKey(email, ip));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;

/** No retry waits longer than this, however many attempts failed before. */
export const MAX_BACKOFF_MS = 3600_000;

/**
 * Delay before the next attempt: exponential backoff with full jitter, a random delay between 0
 * and `baseMs × 2^(attempt−1)` (capped). The randomness spreads out retries of many jobs that
 * failed together (an SMTP outage), so they do not hit the recovering service in waves.
 */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

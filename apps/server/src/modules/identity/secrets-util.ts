import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh 256-bit secret, base64url, with a prefix that says what it is (`lyr_`, `lyk_`). */
export const randomToken = (prefix = ''): string => `${prefix}${randomBytes(32).toString('base64url')}`;

/** Secrets at rest are stored only as this hash. Their 256 bits of entropy make a slow hash unnecessary. */
export const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

export const hmac = (key: string, value: string): string => createHmac('sha256', key).update(value).digest('base64url');

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(sha256(a));
  const y = Buffer.from(sha256(b));
  return timingSafeEqual(x, y);
}

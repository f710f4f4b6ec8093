import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

const pool = new Uint8Array(4096);
let offset = pool.length;

/**
 * Cryptographic randomness drawn from a pooled buffer: ulid asks for one value per character,
 * and a system call for each made id generation a visible cost on every request.
 */
function pooledRandom(): number {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  return pool[offset++]! / 256;
}

const ulid = monotonicFactory(pooledRandom);

/**
 * Prefixed, time-sortable ids (`usr_01jd…`): the prefix says what an id names, the ULID sorts by
 * creation time, and lower case reads well in URLs.
 */
export function newId(prefix: string): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}

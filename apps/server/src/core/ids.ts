import { monotonicFactory } from 'ulid';

const ulid = monotonicFactory();

/**
 * Prefixed, time-sortable ids (`usr_01jd…`): the prefix says what an id names, the ULID sorts by
 * creation time, and lower case reads well in URLs.
 */
export function newId(prefix: string): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}

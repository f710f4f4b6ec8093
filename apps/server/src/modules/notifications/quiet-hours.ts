/** Quiet hours in the user's IANA time zone: `HH:MM` to `HH:MM` local time, possibly across midnight. */
import { wallClock } from '../../core/time-zone.js';

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Minutes since local midnight of `at` in `zone`. */
export function localMinutes(at: Date, zone: string): number {
  const { hour, minute } = wallClock(at, zone);
  return hour * 60 + minute;
}

/**
 * When the quiet window that `at` falls in ends, or null when `at` is outside quiet hours.
 * (Across a daylight-saving change the end can be off by the shift; never earlier than `at`.)
 */
export function quietUntil(at: Date, zone: string, start: string | null, end: string | null): Date | null {
  if (!start || !end || start === end) return null;
  const local = localMinutes(at, zone);
  const s = minutesOf(start);
  const e = minutesOf(end);
  const inside = s < e ? local >= s && local < e : local >= s || local < e;
  if (!inside) return null;
  const wait = (e - local + 1440) % 1440;
  return new Date(Math.floor(at.getTime() / 60_000) * 60_000 + wait * 60_000);
}

/**
 * Digest windows in the user's IANA time zone. A daily window runs from one local `hour:00` to the
 * next day's; a weekly one from `weekday hour:00` to the same a week later. Local wall time is
 * converted with the zone's rules on each date, so a window that spans a daylight-saving change is
 * 23, 25, 167 or 169 hours long and still ends at the local hour.
 */

export const DIGEST_CADENCES = ['off', 'daily', 'weekly'] as const;
export type Cadence = (typeof DIGEST_CADENCES)[number];
export type DigestCadence = Exclude<Cadence, 'off'>;
export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When a user's digests close: the local hour (0–23) and, for weekly ones, the weekday. */
export interface DigestTime {
  hour: number;
  weekday: Weekday;
}

export interface Window {
  start: Date;
  end: Date;
}

const DAY = 86_400_000;

/** Local calendar fields of `at` in `zone`. */
function localParts(at: number, zone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute'), second: get('second') };
}

/** The zone's offset from UTC at instant `at`, in ms (Paris in winter: +3 600 000). */
function offsetAt(at: number, zone: string): number {
  const p = localParts(at, zone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(at / 1000) * 1000;
}

/**
 * The instant of local `hour:00` on the local date `dayNumber` (days since 1970-01-01). A local
 * time skipped by a spring-forward change resolves to the instant the clocks jumped to; an
 * ambiguous one (autumn) to its first occurrence. Deterministic, so windows always tile.
 */
export function localHourOn(dayNumber: number, hour: number, zone: string): Date {
  const wall = dayNumber * DAY + hour * 3_600_000;
  // The offsets in force half a day before and after: they differ only around a change.
  const candidates = [wall - offsetAt(wall - DAY / 2, zone), wall - offsetAt(wall + DAY / 2, zone)].sort((a, b) => a - b);
  for (const c of candidates) if (c + offsetAt(c, zone) === wall) return new Date(c);
  // In a gap the wall time does not exist: the clocks jumped from it to the later candidate.
  return new Date(candidates[1]!);
}

function localDayNumber(at: number, zone: string): number {
  const p = localParts(at, zone);
  return Date.UTC(p.year, p.month - 1, p.day) / DAY;
}

/** The local date (days since epoch) on which the latest window of `cadence` ending at or before `at` ends. */
function latestEndDay(cadence: DigestCadence, time: DigestTime, zone: string, at: number): number {
  let day = localDayNumber(at, zone);
  if (cadence === 'weekly') {
    const weekday = new Date(day * DAY).getUTCDay();
    day -= (weekday - WEEKDAYS.indexOf(time.weekday) + 7) % 7;
  }
  const step = cadence === 'daily' ? 1 : 7;
  while (localHourOn(day, time.hour, zone).getTime() > at) day -= step;
  return day;
}

/** The latest window of `cadence` that has closed at `at` (its end is at or before `at`). */
export function closedWindow(cadence: DigestCadence, time: DigestTime, zone: string, at: Date): Window {
  const step = cadence === 'daily' ? 1 : 7;
  const day = latestEndDay(cadence, time, zone, at.getTime());
  return { start: localHourOn(day - step, time.hour, zone), end: localHourOn(day, time.hour, zone) };
}

/** When the next window of `cadence` after `at` closes (strictly later than `at`). */
export function nextWindowEnd(cadence: DigestCadence, time: DigestTime, zone: string, at: Date): Date {
  const step = cadence === 'daily' ? 1 : 7;
  return localHourOn(latestEndDay(cadence, time, zone, at.getTime()) + step, time.hour, zone);
}

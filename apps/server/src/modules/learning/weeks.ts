import { localDate } from '../../core/time-zone.js';

const DAY_MS = 86_400_000;

/** One formatter per zone, as core/time-zone.ts keeps for dates: building one costs far more than using it. */
const wallClocks = new Map<string, Intl.DateTimeFormat>();

/** How far `zone`'s wall clock is ahead of UTC at instant `at`, in milliseconds. */
function offsetAt(at: number, zone: string): number {
  let format = wallClocks.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    wallClocks.set(zone, format);
  }
  const part = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, Number(p.value)]));
  const wall = Date.UTC(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!, part.second!);
  return wall - (at - (((at % 1000) + 1000) % 1000));
}

/**
 * The first instant of local day `day` (`YYYY-MM-DD`) in `zone`: its midnight, or the end of the
 * gap where a daylight-saving change skips midnight.
 */
function startOfDay(day: string, zone: string): number {
  const wallMidnight = Date.parse(`${day}T00:00:00.000Z`);
  const first = wallMidnight - offsetAt(wallMidnight, zone);
  // Again with the offset in force at that instant, in case a change fell in between.
  const second = wallMidnight - offsetAt(first, zone);
  return [first, second].filter((at) => localDate(new Date(at), zone) === day).sort((a, b) => a - b)[0] ?? first;
}

/** Monday 00:00 in `zone` of the week holding `now`, and the next Monday 00:00 there, as UTC instants. */
export function weekOf(now: Date, zone: string): { start: string; end: string } {
  const today = localDate(now, zone);
  const weekday = (new Date(`${today}T00:00:00.000Z`).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const monday = Date.parse(`${today}T00:00:00.000Z`) - weekday * DAY_MS;
  const day = (at: number) => new Date(at).toISOString().slice(0, 10);
  return { start: new Date(startOfDay(day(monday), zone)).toISOString(), end: new Date(startOfDay(day(monday + 7 * DAY_MS), zone)).toISOString() };
}

/** IANA time zones, through the runtime's Intl (ICU) data: no zone table of our own to keep up to date. */

/**
 * The zone as stored: the name given, with its case corrected (`america/los_angeles` →
 * `America/Los_Angeles`), or null when Intl does not know it. Other spellings are kept: ICU's
 * canonical name for `Asia/Kolkata` is the older `Asia/Calcutta`, which is not what the user chose.
 */
export function normaliseTimeZone(zone: string): string | null {
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
  } catch {
    return null;
  }
}

export const DAY_MS = 86_400_000;

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** One formatter per zone: building one costs far more than using it, and local times are read on hot paths. */
const wallClocks = new Map<string, Intl.DateTimeFormat>();

/** The date and time on the wall clock in `zone` at instant `at`. */
export function wallClock(at: Date | number, zone: string): WallClock {
  // Users without a zone of their own are on UTC: the Date's own fields, without a formatter.
  if (zone === 'UTC') {
    const d = new Date(at);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  }
  let format = wallClocks.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    wallClocks.set(zone, format);
  }
  const clock: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const { type, value } of format.formatToParts(at)) if (type in clock) clock[type as keyof WallClock] = Number(value);
  return clock;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The local calendar date (`YYYY-MM-DD`) of instant `at` in `zone`. */
export function localDate(at: Date | number, zone: string): string {
  const { year, month, day } = wallClock(at, zone);
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** The local calendar day of instant `at` in `zone`, as days since 1970-01-01. */
export function localDayNumber(at: Date | number, zone: string): number {
  const { year, month, day } = wallClock(at, zone);
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

/** How far `zone`'s wall clock is ahead of UTC at instant `at`, in ms (Paris in winter: +3 600 000). */
function offsetAt(at: number, zone: string): number {
  const c = wallClock(at, zone);
  return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second) - Math.floor(at / 1000) * 1000;
}

/**
 * The instant of local `hour:00` on the local day `dayNumber` (days since 1970-01-01). A local
 * time skipped by a spring-forward change resolves to the instant the clocks jumped to; an
 * ambiguous one (autumn) to its first occurrence. Deterministic, so consecutive periods tile.
 */
export function localHourOn(dayNumber: number, hour: number, zone: string): Date {
  const wall = dayNumber * DAY_MS + hour * 3_600_000;
  // The offsets in force half a day before and after: they differ only around a change.
  const candidates = [wall - offsetAt(wall - DAY_MS / 2, zone), wall - offsetAt(wall + DAY_MS / 2, zone)].sort((a, b) => a - b);
  for (const c of candidates) if (c + offsetAt(c, zone) === wall) return new Date(c);
  // In a gap the wall time does not exist: the clocks jumped from it to the later candidate.
  return new Date(candidates[1]!);
}

import { DAY_MS, localDayNumber, localHourOn } from '../../core/time-zone.js';

/** Monday 00:00 in `zone` of the week holding `now`, and the next Monday 00:00 there, as UTC instants. */
export function weekOf(now: Date, zone: string): { start: string; end: string } {
  const today = localDayNumber(now, zone);
  const monday = today - ((new Date(today * DAY_MS).getUTCDay() + 6) % 7); // Monday 0 … Sunday 6
  return { start: localHourOn(monday, 0, zone).toISOString(), end: localHourOn(monday + 7, 0, zone).toISOString() };
}

/**
 * Digest windows in the user's IANA time zone. A daily window runs from one local `hour:00` to the
 * next day's; a weekly one from `weekday hour:00` to the same a week later. Local wall time is
 * converted with the zone's rules on each date, so a window that spans a daylight-saving change is
 * 23, 25, 167 or 169 hours long and still ends at the local hour.
 */
import { DAY_MS, localDayNumber, localHourOn } from '../../core/time-zone.js';

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

/** The local date (days since epoch) on which the latest window of `cadence` ending at or before `at` ends. */
function latestEndDay(cadence: DigestCadence, time: DigestTime, zone: string, at: number): number {
  let day = localDayNumber(at, zone);
  if (cadence === 'weekly') {
    const weekday = new Date(day * DAY_MS).getUTCDay();
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

import { describe, expect, it } from 'vitest';
import { localDate, normaliseTimeZone, wallClock } from './time-zone.js';

describe('time zones', () => {
  it('an IANA name is kept, its case corrected; an unknown one is null', () => {
    expect(normaliseTimeZone('america/los_angeles')).toBe('America/Los_Angeles');
    expect(normaliseTimeZone('Asia/Kolkata')).toBe('Asia/Kolkata'); // not ICU's older canonical Asia/Calcutta
    expect(normaliseTimeZone('UTC')).toBe('UTC');
    expect(normaliseTimeZone('Mars/Base')).toBeNull();
    expect(normaliseTimeZone('+05:00')).toBeNull();
  });

  it('the local date of an instant is the date on the wall clock there', () => {
    const instant = new Date('2026-11-23T07:30:00.000Z');
    expect(localDate(instant, 'UTC')).toBe('2026-11-23');
    expect(localDate(instant, 'America/Los_Angeles')).toBe('2026-11-22'); // 23:30 the evening before
    expect(localDate(new Date('2026-11-22T11:30:00.000Z'), 'Pacific/Kiritimati')).toBe('2026-11-23'); // UTC+14: 01:30 the next day
    // Paris at 23:30 on the night summer time ends (2026-10-25, UTC+1 from 01:00Z).
    expect(localDate(new Date('2026-10-25T22:30:00.000Z'), 'Europe/Paris')).toBe('2026-10-25');
  });

  it('UTC reads the instant itself, as a formatter for the same zone would', () => {
    for (const iso of ['2026-01-01T00:00:00.000Z', '2026-02-28T23:59:59.999Z', '2028-02-29T12:34:56.000Z', '2026-12-31T23:00:01.500Z', '1999-07-04T05:06:07.000Z']) {
      expect(wallClock(new Date(iso), 'UTC'), iso).toEqual(wallClock(new Date(iso), 'Etc/UTC'));
    }
    expect(wallClock(Date.parse('2026-03-09T08:07:06Z'), 'UTC')).toEqual({ year: 2026, month: 3, day: 9, hour: 8, minute: 7, second: 6 });
  });
});

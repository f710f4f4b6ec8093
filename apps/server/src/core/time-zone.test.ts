import { describe, expect, it } from 'vitest';
import { localDate, normaliseTimeZone } from './time-zone.js';

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
});

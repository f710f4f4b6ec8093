/** Time as a dependency, so that tests can move it (digests, leases, expiries). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** RFC 3339 UTC with milliseconds: the one timestamp format stored and spoken by Lyceum. */
export const isoNow = (clock: Clock): string => clock.now().toISOString();

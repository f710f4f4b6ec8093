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

/** One formatter per zone: building one costs far more than using it, and activity is recorded on hot paths. */
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** The local calendar date (`YYYY-MM-DD`) of instant `at` in `zone`. */
export function localDate(at: Date, zone: string): string {
  let format = dateFormats.get(zone);
  if (!format) dateFormats.set(zone, (format = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  const parts = format.formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

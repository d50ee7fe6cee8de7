/*
 * Instants given as ISO-8601 text, read the same on every server. `Date.parse` alone reads far
 * more than ISO 8601 (`"1"` is 2001, `"hello 5"` a day in May), rolls impossible days over
 * (2023-02-29 is 1 March), and reads a date-time without a zone in the server's own time zone,
 * so that the same call answered for another instant on a server set to another zone: here a
 * date-time without a zone is UTC, as a date is.
 */

// A date (midnight UTC), or a date and time with `Z`, a `±hh:mm` (or `±hhmm`) offset, or
// neither (UTC); `t` and `z` as well as `T` and `Z`, as RFC 3339 allows.
const INSTANT = /^(?<date>(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2}))(?:[Tt](?<time>\d{2}:\d{2}(?::\d{2}(?<fraction>\.\d{1,9})?)?)(?<zone>[Zz]|[+-]\d{2}:?\d{2})?)?$/;

/** A date-time `parseInstant` takes, for error messages. */
export const DATE_TIME_RULE = 'an ISO-8601 date-time (YYYY-MM-DDThh:mm:ss.sssZ, …+02:00; UTC without a zone)';
/** What `parseInstant` takes, for error messages. */
export const INSTANT_RULE = `an ISO-8601 date (YYYY-MM-DD, midnight UTC) or ${DATE_TIME_RULE.slice('an ISO-8601 '.length)}`;

/**
 * Epoch milliseconds of an ISO-8601 date (`2025-03-01`, midnight UTC) or date-time
 * (`2025-03-01T10:00:00Z`, `2025-03-01T12:00+02:00`; `2025-03-01T10:00` is UTC), on a day that
 * exists; null for anything else. A fraction beyond milliseconds is cut (the
 * millisecond it falls in), or with `roundUp` moves to the next millisecond: a bound compared
 * with stored times (whole milliseconds) then keeps out a time before it.
 */
export function parseInstant(value: unknown, roundUp = false): number | null {
  const parts = typeof value === 'string' ? INSTANT.exec(value)?.groups : undefined;
  if (parts === undefined) return null;
  const { date, time, fraction, zone } = parts as { date: string; time?: string; fraction?: string; zone?: string };
  const [year, month, day] = [parts.year, parts.month, parts.day].map(Number) as [number, number, number];
  // Day 0 of the next month is the month's last day (setUTCFullYear: Date.UTC maps years 0–99 to 1900–1999).
  const last = new Date(0);
  last.setUTCFullYear(year, month, 0);
  if (month < 1 || month > 12 || day < 1 || day > last.getUTCDate()) return null;
  // Written in the one form Date.parse reads as ISO (which refuses 25:00, :60, +99:00); a
  // date-time without a zone gets `Z`: Date.parse would read it in the server's zone.
  const offset = zone === undefined ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone.toUpperCase();
  const ms = Date.parse(time === undefined ? date : `${date}T${time}${offset}`);
  if (!Number.isFinite(ms)) return null;
  return roundUp && /[1-9]/.test(fraction?.slice(4) ?? '') ? ms + 1 : ms;
}

const GRANTING = new Set(['granted', 'on', 'true', '1']);

/**
 * Whether a form value grants: `granted`, `on`, `true` or `"1"` (or boolean `true`). With a
 * repeated field (a hidden "0" before the checkbox) the last value wins, as in the browser's
 * submission order.
 */
export function isGranting(value: unknown): boolean {
  const last = Array.isArray(value) ? (value as unknown[])[value.length - 1] : value;
  return last === true || (typeof last === 'string' && GRANTING.has(last));
}

/**
 * The value submitted for `consent[<id>]`: from `body.consent[id]` (extended urlencoded
 * parser, JSON) or from the flat key `consent[<id>]` (a parser without nesting).
 */
export function submittedValue(body: unknown, id: string): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  const nested = Object.hasOwn(record, 'consent') ? record.consent : undefined;
  if (nested !== null && typeof nested === 'object' && !Array.isArray(nested) && Object.hasOwn(nested, id)) {
    return (nested as Record<string, unknown>)[id];
  }
  const flat = `consent[${id}]`;
  return Object.hasOwn(record, flat) ? record[flat] : undefined;
}

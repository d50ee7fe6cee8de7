import { ConsentError } from '../errors';
import type { AdminCapability } from '../tracker/admin-capability';
import { hasCapability, missingMethods } from '../tracker/has-capability';
import type { ConsentTracker } from '../tracker/tracker';

/**
 * The tracker's admin capability, or null when the tracker does not implement it. The engine's
 * tracker already carries the storage deadlines (aggregates get a longer one).
 */
export function adminReader(tracker: ConsentTracker): AdminCapability | null {
  return hasCapability(tracker, 'admin') ? tracker : null;
}

/**
 * The admin reader, for a route that cannot work without it.
 * @throws ConsentError `internal_error` (a setup error, logged) naming the missing methods.
 */
export function requireAdmin(reader: AdminCapability | null, tracker: ConsentTracker): AdminCapability {
  if (reader) return reader;
  throw new ConsentError(
    'internal_error',
    `the consent tracker does not implement the admin capability (missing ${missingMethods(tracker, 'admin').join(', ')}), which this admin route needs`,
  );
}

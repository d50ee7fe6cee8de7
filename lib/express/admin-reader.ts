import { storeCall } from '../core/store-call';
import { ConsentError } from '../errors';
import type { AdminCapability } from '../tracker/admin-capability';
import { hasCapability, missingMethods } from '../tracker/has-capability';
import type { ConsentTracker } from '../tracker/tracker';

// Aggregates over millions of events may take longer than a guard's read; they never block one.
const AGGREGATE_TIMEOUT_MS = 30_000;

/**
 * The tracker's admin capability with every call under the storage deadline (aggregates under
 * a longer one), or null when the tracker does not implement it.
 */
export function adminReader(tracker: ConsentTracker, storeTimeoutMs: number): AdminCapability | null {
  if (!hasCapability(tracker, 'admin')) return null;
  const ms = storeTimeoutMs;
  const slow = Math.max(ms, AGGREGATE_TIMEOUT_MS);
  return {
    auditEvents: (query) => storeCall(ms, 'audit read', () => tracker.auditEvents(query)),
    stats: (now) => storeCall(slow, 'stats read', () => tracker.stats(now)),
    dailyCounts: (from) => storeCall(slow, 'daily counts read', () => tracker.dailyCounts(from)),
    allRequirementVersions: () => storeCall(ms, 'requirement read', () => tracker.allRequirementVersions()),
    readSetting: (name) => storeCall(ms, 'setting read', () => tracker.readSetting(name)),
  };
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

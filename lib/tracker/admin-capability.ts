import type { AuditEvent, AuditQuery, DailyCount, StoreStats } from './admin-records';
import type { StoredRequirementVersion } from './records';

/**
 * Optional: what operators' tools read. The admin routes (`/admin/events`, `/admin/export`,
 * `/admin/stats`), the admin console's statistics, chart and exports, and the command line read
 * the store through these methods only, so a tracker that implements them gets all of those.
 * Each is one short, bounded read: aggregates are computed by the store, never by reading every
 * row into the process.
 */
export interface AdminCapability {
  /**
   * A keyset page of events of every subject, filtered, ordered by event id (`newest` or
   * `oldest` first), each with the pseudonym currently linked to its chain (null once erased).
   */
  auditEvents(query: AuditQuery): Promise<AuditEvent[]>;

  /**
   * The number of linked subjects, current records grouped by what decides their state at
   * `now`, and event counts per action.
   */
  stats(now: number): Promise<StoreStats>;

  /**
   * Event counts per UTC day and action for events at or after `from` (epoch ms, a UTC
   * midnight); days and actions without events are left out.
   */
  dailyCounts(from: number): Promise<DailyCount[]>;

  /** Every stored version of every requirement, by id, then oldest version first. */
  allRequirementVersions(): Promise<StoredRequirementVersion[]>;

  /**
   * The value stored under `name` by `secret()` (name `secret`) or `setting(name, …)`, or null
   * when there is none. Never stores anything.
   */
  readSetting(name: string): Promise<string | null>;
}

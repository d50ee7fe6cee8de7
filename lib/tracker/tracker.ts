import type { AdminCapability } from './admin-capability';
import type {
  BulkCapability,
  LifecycleCapability,
  OutboxCapability,
  ProofCapability,
  TrackerCore,
  UpgradeCapability,
  WatchCapability,
} from './capabilities';

export type { ChangeHandlers, EventScanQuery, HeadScanQuery, TrackerHistoryQuery } from './queries';

/**
 * The storage seam: a required core plus named capabilities. The library hands a tracker only
 * pseudonyms, validated values and plans computed by its pure core, so a tracker is a thin,
 * atomic edge over some store.
 *
 * - `TrackerCore` and `ProofCapability`: required.
 * - `BulkCapability` (import), `LifecycleCapability` (double opt-in, sweep): recommended.
 * - `WatchCapability` (cross-process cache freshness), `OutboxCapability` (durable handlers),
 *   `AdminCapability` (admin routes, console, command line), `UpgradeCapability` (a persistent
 *   store upgraded from an older release): optional.
 *
 * An optional capability is implemented whole or not at all; `hasCapability()` tells which.
 * Run `trackerConformance()` from `express-consent/testing` against any implementation: it
 * checks the core and every capability the tracker offers. Every method may reject; the library
 * turns a rejection into `store_unavailable` and never reads it as consent.
 */
export interface ConsentTracker
  extends TrackerCore,
    ProofCapability,
    Partial<BulkCapability>,
    Partial<WatchCapability>,
    Partial<LifecycleCapability>,
    Partial<OutboxCapability>,
    Partial<AdminCapability>,
    Partial<UpgradeCapability> {}

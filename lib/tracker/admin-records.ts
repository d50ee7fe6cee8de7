import type { Action, Decision, Source } from '../types';
import type { StoredEvent } from './records';

/** Filters and keyset position of an audit search across every subject. */
export interface AuditQuery {
  requirement?: string;
  action?: Action;
  /** Only events of this source. */
  source?: Source;
  /** Only events with exactly this context. */
  context?: string;
  /** Only events with exactly this actor. */
  actor?: string;
  /** Only events at or after this instant (epoch ms). */
  from?: number;
  /** Only events before this instant (epoch ms). */
  to?: number;
  /** Only events past this event id in `order` (the previous page's last id). */
  cursor?: string;
  /** `newest`: descending event id (insertion order); `oldest`: ascending. */
  order: 'newest' | 'oldest';
  limit: number;
}

/** A stored event with the pseudonym its chain is linked to (null after erasure). */
export interface AuditEvent extends StoredEvent {
  subject: string | null;
}

/**
 * Current records that derive the same state, counted. `pendingLive`: an unexpired double
 * opt-in request; `lapsed`: the grant's `expiresAt` has passed. With the requirement's
 * current version, that is all the pure derivation needs.
 */
export interface StateGroup {
  requirement: string;
  decision: Decision | null;
  version: number | null;
  pendingVersion: number | null;
  pendingLive: boolean;
  lapsed: boolean;
  count: number;
}

/** The outbox entries of one durable handler still to deliver. */
export interface OutboxBacklog {
  handler: string;
  entries: number;
  /** Epoch ms: the earliest time one of them was (or will be) due for an attempt. */
  earliestDueAt: number;
}

/** What `stats(now)` returns: grouped counts, a handful of rows whatever the data volume. */
export interface StoreStats {
  /** Subjects whose chain is linked (not erased). */
  subjects: number;
  /** Current records grouped by what decides their state at `now`. */
  groups: StateGroup[];
  /** Events per action over the whole history, erased subjects' included. */
  actions: Partial<Record<Action, number>>;
  /**
   * Outbox entries still to deliver, per durable handler (a tracker with the outbox capability;
   * absent otherwise). Entries of a handler that no process registers any more show here.
   */
  outbox?: OutboxBacklog[];
}

/** Events of one action on one UTC day. */
export interface DailyCount {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  action: Action;
  count: number;
}

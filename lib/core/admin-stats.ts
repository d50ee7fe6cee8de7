import { deriveState } from '../state/derive';
import type { DailyCount, StoreStats } from '../tracker/admin-records';
import { emptyRecord } from '../tracker/records';
import type { Requirement, State } from '../types';
import { ACTIONS } from '../vocabulary';

/** Subjects per state. */
export type StateCounts = Record<State, number>;

/** `GET /admin/stats` for one requirement. */
export interface RequirementStats {
  /** The current version. */
  version: number;
  /** Subjects in each state now (`unset`: linked subjects with no decision on it). */
  states: StateCounts;
  /** The same counts by the version of the decision (or request) behind the state. */
  versions: Record<string, Omit<StateCounts, 'unset'>>;
}

/** `GET /admin/stats`, the console's counts and `express-consent stats --json`. */
export interface AdminStats {
  /** Subjects with a linked (not erased) chain. */
  subjects: number;
  /** Per requirement, in the order given (registration order). */
  requirements: Record<string, RequirementStats>;
  /** Events per action, erased subjects' included. */
  events: Record<string, number>;
  /**
   * Outbox entries still to deliver, by durable handler name (empty when none, or when the
   * tracker keeps no outbox). A handler that no process registers any more keeps its entries.
   */
  outbox: Record<string, { entries: number; earliestDueAt: string }>;
}

/** States in display order. */


const zero = (): StateCounts => ({ granted: 0, denied: 0, pending: 0, unset: 0, expired: 0, outdated: 0 });

/**
 * Turns the store's grouped counts into per-state numbers with the same pure derivation the
 * routes use, so stats and `/me` can never disagree on what a record means.
 */
export function adminStats(requirements: readonly Requirement[], now: number, raw: StoreStats): AdminStats {
  const out: Record<string, RequirementStats> = {};
  for (const requirement of requirements) {
    const entry: RequirementStats = { version: requirement.version, states: zero(), versions: {} };
    let decided = 0;
    for (const group of raw.groups.filter((g) => g.requirement === requirement.id)) {
      const record = {
        ...emptyRecord(group.requirement),
        decision: group.decision,
        version: group.version,
        expiresAt: group.lapsed ? now : null,
        pendingVersion: group.pendingVersion,
        pendingExpiresAt: group.pendingLive ? now + 1 : null,
      };
      const derived = deriveState(record, requirement, now);
      if (derived.state === 'unset') continue;
      decided += group.count;
      entry.states[derived.state] += group.count;
      const key = String(derived.version);
      const { unset: _unset, ...counts } = zero();
      const byVersion = (entry.versions[key] ??= counts);
      byVersion[derived.state] += group.count;
    }
    entry.states.unset = Math.max(0, raw.subjects - decided);
    out[requirement.id] = entry;
  }
  const events: Record<string, number> = {};
  for (const action of ACTIONS) events[action] = raw.actions[action] ?? 0;
  const outbox: AdminStats['outbox'] = {};
  for (const b of [...(raw.outbox ?? [])].sort((x, y) => (x.handler < y.handler ? -1 : 1))) {
    outbox[b.handler] = { entries: b.entries, earliestDueAt: new Date(b.earliestDueAt).toISOString() };
  }
  return { subjects: raw.subjects, requirements: out, events, outbox };
}

/** Grants and withdrawals of one UTC day. */
export interface DayCount {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  grants: number;
  withdrawals: number;
}

const DAY_MS = 86_400_000;

/** The first instant (a UTC midnight) of the `days` days that end with the day of `now`. */
export function windowStart(now: number, days: number): number {
  return (Math.floor(now / DAY_MS) - days + 1) * DAY_MS;
}

/**
 * Grants and withdrawals per UTC day over the `days` days up to `now` (today included), from
 * the store's daily counts: zero-filled, oldest first; counts outside the window are ignored.
 */
export function dailySeries(counts: readonly DailyCount[], now: number, days = 30): DayCount[] {
  const byDay = new Map<string, DayCount>();
  for (let t = windowStart(now, days); t <= now; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    byDay.set(day, { day, grants: 0, withdrawals: 0 });
  }
  for (const { day, action, count } of counts) {
    const entry = byDay.get(day);
    if (!entry) continue;
    if (action === 'grant') entry.grants += count;
    else if (action === 'withdraw') entry.withdrawals += count;
  }
  return [...byDay.values()];
}

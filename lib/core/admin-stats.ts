import type { Registry } from '../registry/registry';
import { deriveState } from '../state/derive';
import type { StateGroup } from '../tracker/admin-records';
import { emptyRecord } from '../tracker/records';
import type { State } from '../types';

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

/** `GET /admin/stats`. */
export interface AdminStats {
  /** Subjects with a linked (not erased) chain. */
  subjects: number;
  /** Per registered requirement, in registration order. */
  requirements: Record<string, RequirementStats>;
  /** Events per action, erased subjects' included. */
  events: Record<string, number>;
}

const zero = (): StateCounts => ({ granted: 0, denied: 0, pending: 0, unset: 0, expired: 0, outdated: 0 });

/**
 * Turns the store's grouped counts into per-state numbers with the same pure derivation the
 * routes use, so stats and `/me` can never disagree on what a record means.
 */
export function adminStats(
  registry: Registry,
  now: number,
  raw: { subjects: number; groups: StateGroup[]; actions: Record<string, number> },
): AdminStats {
  const requirements: Record<string, RequirementStats> = {};
  for (const requirement of registry.list()) {
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
    requirements[requirement.id] = entry;
  }
  const events: Record<string, number> = {};
  for (const action of ['grant', 'deny', 'withdraw', 'request', 'confirm', 'expire', 'erase']) events[action] = raw.actions[action] ?? 0;
  return { subjects: raw.subjects, requirements, events };
}

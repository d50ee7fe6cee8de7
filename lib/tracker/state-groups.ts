import type { StateGroup } from './admin-records';
import type { CurrentRecord } from './records';

/** Records counted by the groups of the admin statistics (`StoreStats.groups`), as of `now`. Pure. */
export class StateGroups {
  // By requirement, then by the rest of the group's key (primitives only: no separator in them to confuse).
  private readonly groups = new Map<string, Map<string, StateGroup>>();

  constructor(private readonly now: number) {}

  add(r: CurrentRecord): void {
    const pendingLive = r.pendingExpiresAt !== null && r.pendingExpiresAt > this.now;
    const lapsed = r.expiresAt !== null && r.expiresAt <= this.now;
    let byRest = this.groups.get(r.requirement);
    if (byRest === undefined) {
      byRest = new Map();
      this.groups.set(r.requirement, byRest);
    }
    const rest = `${String(r.decision)} ${String(r.version)} ${String(r.pendingVersion)} ${String(pendingLive)} ${String(lapsed)}`;
    let group = byRest.get(rest);
    if (group === undefined) {
      group = { requirement: r.requirement, decision: r.decision, version: r.version, pendingVersion: r.pendingVersion, pendingLive, lapsed, count: 0 };
      byRest.set(rest, group);
    }
    group.count += 1;
  }

  list(): StateGroup[] {
    return [...this.groups.values()].flatMap((byRest) => [...byRest.values()]);
  }
}

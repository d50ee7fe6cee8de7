import type { StateGroup } from './admin-records';
import type { CurrentRecord } from './records';

/** Records counted by the groups of the admin statistics (`StoreStats.groups`), as of `now`. Pure. */
export class StateGroups {
  private readonly groups = new Map<string, StateGroup>();

  constructor(private readonly now: number) {}

  add(r: CurrentRecord): void {
    const pendingLive = r.pendingExpiresAt !== null && r.pendingExpiresAt > this.now;
    const lapsed = r.expiresAt !== null && r.expiresAt <= this.now;
    const key = JSON.stringify([r.requirement, r.decision, r.version, r.pendingVersion, pendingLive, lapsed]);
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { requirement: r.requirement, decision: r.decision, version: r.version, pendingVersion: r.pendingVersion, pendingLive, lapsed, count: 0 };
      this.groups.set(key, group);
    }
    group.count += 1;
  }

  list(): StateGroup[] {
    return [...this.groups.values()];
  }
}

import type { CurrentRecord, StoredEvent } from '../tracker/records';
import type { Decision } from '../types';

/** What a chain's events say a current record holds (the members they determine). */
interface Expected {
  decision: Decision | null;
  version: number | null;
  decidedAt: number | null;
  pendingVersion: number | null;
  pendingAt: number | null;
  /** An `expire` event follows the latest decision. */
  expired: boolean;
  /** The newest event of the requirement. */
  eventId: string;
}

/** A current record that its chain's events contradict (or that is missing, or extra). */
export interface RecordMismatch {
  requirement: string;
  /** The newest event of the requirement in the chain; null for a record no event explains. */
  eventId: string | null;
}

/**
 * Replays a chain's events (in sequence order) into what its current records must hold, and
 * names the stored records that differ: the planner's rules read backwards. Members no event
 * records (`expiresAt`, `gpcOptIn`, the token's hash and lifetime) are covered by the head's seal
 * only. Pure.
 */
export class RecordReplay {
  private readonly byId = new Map<string, Expected>();

  push(event: StoredEvent): void {
    const before = this.byId.get(event.requirement);
    switch (event.action) {
      case 'grant':
      case 'confirm':
      case 'deny':
      case 'withdraw':
        this.byId.set(event.requirement, {
          decision: event.action === 'grant' || event.action === 'confirm' ? 'granted' : 'denied',
          version: event.version,
          decidedAt: event.at,
          pendingVersion: null,
          pendingAt: null,
          expired: false,
          eventId: event.id,
        });
        break;
      case 'request':
        this.byId.set(event.requirement, {
          decision: before?.decision ?? null,
          version: before?.version ?? null,
          decidedAt: before?.decidedAt ?? null,
          pendingVersion: event.version,
          pendingAt: event.at,
          expired: before?.expired ?? false,
          eventId: event.id,
        });
        break;
      case 'expire':
        if (before) this.byId.set(event.requirement, { ...before, expired: true, eventId: event.id });
        break;
      case 'erase':
        this.byId.clear();
        break;
    }
  }

  /** The stored records that differ from the replay, and the replayed ones missing. */
  mismatches(records: readonly CurrentRecord[]): RecordMismatch[] {
    const out: RecordMismatch[] = [];
    const seen = new Set<string>();
    for (const record of records) {
      seen.add(record.requirement);
      const x = this.byId.get(record.requirement);
      if (x === undefined) out.push({ requirement: record.requirement, eventId: null });
      else if (!matches(record, x)) out.push({ requirement: record.requirement, eventId: x.eventId });
    }
    for (const [requirement, x] of this.byId) if (!seen.has(requirement)) out.push({ requirement, eventId: x.eventId });
    return out;
  }

  /**
   * Whether `records` are those of a head set back onto an earlier event (the newest events gone
   * with it): they keep records newer than that event (at `lastAt`), so every record the replay
   * contradicts was decided or asked after it.
   */
  rewoundFrom(records: readonly CurrentRecord[], lastAt: number): boolean {
    const mismatches = this.mismatches(records);
    if (mismatches.length === 0) return false;
    return mismatches.every(({ requirement }) => {
      const r = records.find((x) => x.requirement === requirement);
      return r !== undefined && Math.max(r.decidedAt ?? -Infinity, r.pendingAt ?? -Infinity) > lastAt;
    });
  }
}

function matches(r: CurrentRecord, x: Expected): boolean {
  // The sweep also marks grants that stopped counting for another reason, without an event.
  return r.decision === x.decision && r.version === x.version && r.decidedAt === x.decidedAt &&
    r.pendingVersion === x.pendingVersion && r.pendingAt === x.pendingAt && (!x.expired || r.expiryRecorded);
}

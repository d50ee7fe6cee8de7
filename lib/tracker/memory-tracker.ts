import { randomBytes } from 'node:crypto';
import { GENESIS } from '../audit/chain';
import { MemoryOutbox } from './memory-outbox';
import type {
  ClaimedOutboxEntry,
  CurrentRecord,
  LapsedGrant,
  PendingMatch,
  StoredEvent,
  StoredRequirementVersion,
  SubjectSnapshot,
  SyncOutcome,
  WritePlan,
} from './records';
import type { ConsentTracker, TrackerHistoryQuery } from './tracker';

interface MemorySubject {
  chain: string;
  seq: number;
  hash: string;
  mac: string;
  records: Map<string, CurrentRecord>;
  events: StoredEvent[];
}

/**
 * A tracker that keeps everything in this process's memory: for tests and examples.
 * Nothing survives a restart, so `createConsent` warns when it runs in production.
 */
export class MemoryTracker implements ConsentTracker {
  private storedSecret: string | null = null;
  private readonly versions = new Map<string, StoredRequirementVersion[]>();
  private readonly subjects = new Map<string, MemorySubject>();
  private nextEventId = 1;
  /** @internal */
  readonly outbox = new MemoryOutbox();

  async init(): Promise<void> {}

  async secret(candidate: string): Promise<string> {
    this.storedSecret ??= candidate;
    return this.storedSecret;
  }

  async syncRequirement(version: StoredRequirementVersion): Promise<SyncOutcome> {
    const list = this.versions.get(version.id) ?? [];
    const highest = list.reduce((max, v) => Math.max(max, v.version), 0);
    if (highest > version.version) return { kind: 'downgrade', highest };
    const index = list.findIndex((v) => v.version === version.version);
    const existing = list[index];
    if (!existing) {
      this.versions.set(version.id, [...list, { ...version }]);
      return { kind: 'ok' };
    }
    if (existing.textHash === version.textHash) return { kind: 'ok' };
    if (this.referenced(version.id, version.version)) return { kind: 'text_changed' };
    list[index] = { ...version, createdAt: existing.createdAt };
    return { kind: 'ok' };
  }

  async requirementVersions(ids: string[]): Promise<StoredRequirementVersion[]> {
    return ids.flatMap((id) => (this.versions.get(id) ?? []).map((v) => ({ ...v })));
  }

  async current(pseudonym: string): Promise<CurrentRecord[]> {
    const subject = this.subjects.get(pseudonym);
    return subject ? [...subject.records.values()].map((r) => ({ ...r })) : [];
  }

  async write<T>(
    pseudonym: string,
    plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
  ): Promise<{ result: T; eventIds: string[] }> {
    // Synchronous from snapshot to commit: no other write can interleave in this process.
    const subject = this.subjects.get(pseudonym) ?? {
      chain: randomBytes(16).toString('hex'),
      seq: 0,
      hash: GENESIS,
      mac: '',
      records: new Map<string, CurrentRecord>(),
      events: [],
    };
    const planned = plan({
      chain: subject.chain,
      seq: subject.seq,
      hash: subject.hash,
      records: [...subject.records.values()].map((r) => ({ ...r })),
    });
    const eventIds: string[] = [];
    for (const event of planned.plan.events) {
      const id = String(this.nextEventId++);
      subject.events.push({ ...event, id });
      eventIds.push(id);
    }
    for (const record of planned.plan.records) subject.records.set(record.requirement, { ...record });
    this.outbox.add(subject.chain, planned.plan.outbox ?? [], eventIds);
    subject.seq = planned.plan.head.seq;
    subject.hash = planned.plan.head.hash;
    subject.mac = planned.plan.head.mac;
    this.subjects.set(pseudonym, subject);
    return { result: planned.result, eventIds };
  }

  async history(pseudonym: string, query: TrackerHistoryQuery): Promise<StoredEvent[]> {
    const events = this.subjects.get(pseudonym)?.events ?? [];
    const out: StoredEvent[] = [];
    for (let i = events.length - 1; i >= 0 && out.length < query.limit; i -= 1) {
      const event = events[i] as StoredEvent;
      if (query.beforeSeq !== undefined && event.seq >= query.beforeSeq) continue;
      if (query.requirement !== undefined && event.requirement !== query.requirement) continue;
      out.push({ ...event });
    }
    return out;
  }

  async findPending(tokenHash: string): Promise<PendingMatch | null> {
    for (const [pseudonym, subject] of this.subjects) {
      for (const record of subject.records.values()) {
        if (record.pendingToken === tokenHash) return { pseudonym, record: { ...record } };
      }
    }
    return null;
  }

  async lapsedGrants(query: { now: number; limit: number; after?: string }): Promise<LapsedGrant[]> {
    const found: LapsedGrant[] = [];
    for (const [pseudonym, subject] of this.subjects) {
      for (const r of subject.records.values()) {
        const key = `${subject.chain}/${r.requirement}`;
        if (query.after !== undefined && key <= query.after) continue;
        if (r.decision === 'granted' && !r.expiryRecorded && r.expiresAt !== null && r.expiresAt <= query.now) {
          found.push({ pseudonym, requirement: r.requirement, key });
        }
      }
    }
    return found.sort((a, b) => (a.key < b.key ? -1 : 1)).slice(0, query.limit);
  }

  async claimOutbox(query: { handlers: string[]; now: number; leaseMs: number; limit: number }): Promise<ClaimedOutboxEntry[]> {
    return this.outbox.claim(query);
  }

  async completeOutbox(id: string): Promise<void> {
    this.outbox.complete(id);
  }

  async retryOutbox(entry: ClaimedOutboxEntry, availableAt: number): Promise<void> {
    this.outbox.retry(entry, availableAt);
  }

  private referenced(id: string, version: number): boolean {
    for (const subject of this.subjects.values()) {
      if (subject.events.some((e) => e.requirement === id && e.version === version)) return true;
    }
    return false;
  }
}

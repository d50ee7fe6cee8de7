import { randomBytes } from 'node:crypto';
import { GENESIS } from '../audit/chain';
import type {
  BatchPlanner,
  CurrentRecord,
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

function snapshotOf(subject: MemorySubject): SubjectSnapshot {
  return {
    chain: subject.chain,
    seq: subject.seq,
    hash: subject.hash,
    records: [...subject.records.values()].map((r) => ({ ...r })),
  };
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
    const subject = this.subjectOf(pseudonym);
    const planned = plan(snapshotOf(subject));
    const eventIds = this.apply(pseudonym, subject, planned.plan);
    return { result: planned.result, eventIds };
  }

  async writeMany(pseudonyms: string[], plan: BatchPlanner): Promise<void> {
    const subjects = new Map([...new Set(pseudonyms)].map((p) => [p, this.subjectOf(p)] as const));
    const snapshots = new Map([...subjects].map(([p, subject]) => [p, snapshotOf(subject)] as const));
    // Plan everything before applying anything: a throw leaves the store untouched.
    const plans = plan(snapshots);
    for (const [pseudonym, planned] of plans) this.apply(pseudonym, subjects.get(pseudonym) as MemorySubject, planned);
  }

  private subjectOf(pseudonym: string): MemorySubject {
    return this.subjects.get(pseudonym) ?? {
      chain: randomBytes(16).toString('hex'),
      seq: 0,
      hash: GENESIS,
      mac: '',
      records: new Map<string, CurrentRecord>(),
      events: [],
    };
  }

  private apply(pseudonym: string, subject: MemorySubject, plan: WritePlan): string[] {
    const eventIds: string[] = [];
    for (const event of plan.events) {
      const id = String(this.nextEventId++);
      subject.events.push({ ...event, id });
      eventIds.push(id);
    }
    for (const record of plan.records) subject.records.set(record.requirement, { ...record });
    subject.seq = plan.head.seq;
    subject.hash = plan.head.hash;
    subject.mac = plan.head.mac;
    this.subjects.set(pseudonym, subject);
    return eventIds;
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

  private referenced(id: string, version: number): boolean {
    for (const subject of this.subjects.values()) {
      if (subject.events.some((e) => e.requirement === id && e.version === version)) return true;
    }
    return false;
  }
}

import { randomBytes } from 'node:crypto';
import { GENESIS } from '../audit/chain';
import { encodeLeaves } from '../audit/log-leaf';
import { MemoryLog } from './memory-log';
import { MemoryOutbox } from './memory-outbox';
import type { BatchPlanner, ChainHead, ClaimedOutboxEntry, CurrentRecord, LapsedGrant, LeafPosition, LogBlock, LogBlockQuery, LogEntry, LogFold, LogHead, SealedHead, StoredEvent, StoredRequirementVersion, SubjectSnapshot, SyncOptions, SyncOutcome, WritePlan } from './records';
import type { AuditEvent, AuditQuery, DailyCount, StoreStats } from './admin-records';
import { auditPage, memoryDailyCounts, memoryStats } from './memory-admin';
import type { AudienceEntry, AudienceQuery } from './audience-capability';
import { memoryAudience } from './memory-audience';
import type { ConsentTracker, EventScanQuery, HeadScanQuery, TrackerHistoryQuery } from './tracker';

interface MemoryChain {
  head: ChainHead;
  records: Map<string, CurrentRecord>;
  /** In sequence order. */
  events: StoredEvent[];
  /** `WritePlan.sealedSubject` as last written. */
  sealedSubject: string | null;
}

const copy = <T extends object>(value: T): T => ({ ...value });

/**
 * A tracker that keeps everything in this process's memory: for tests and examples.
 * Nothing survives a restart, so `createConsent` warns when it runs in production.
 */
export class MemoryTracker implements ConsentTracker {
  private readonly settings = new Map<string, string>();
  private readonly versions = new Map<string, StoredRequirementVersion[]>();
  private readonly chains = new Map<string, MemoryChain>();
  private readonly linked = new Map<string, string>();
  private readonly log = new MemoryLog();
  private nextEventId = 1;
  /** @internal */
  readonly outbox = new MemoryOutbox();

  async init(): Promise<void> {}

  async secret(candidate: string): Promise<string> {
    return this.setting('secret', candidate);
  }

  async setting(name: string, candidate: string): Promise<string> {
    if (!this.settings.has(name)) this.settings.set(name, candidate);
    return this.settings.get(name) as string;
  }

  async syncRequirement(version: StoredRequirementVersion, options: SyncOptions = {}): Promise<SyncOutcome> {
    const list = this.versions.get(version.id) ?? [];
    const highest = list.reduce((max, v) => Math.max(max, v.version), 0);
    if (highest > Math.max(version.version, options.highestRegistered ?? 0)) return { kind: 'downgrade', highest };
    const index = list.findIndex((v) => v.version === version.version);
    const existing = list[index];
    if (!existing) {
      // A version answered through the library whose text is gone is not stored again (see the Knex tracker).
      if (this.referenced(version.id, version.version, true)) return { kind: 'text_changed' };
      this.versions.set(version.id, [...list, { ...version }]);
      return { kind: 'ok' };
    }
    if (existing.textHash === version.textHash) return { kind: 'ok' };
    if (this.referenced(version.id, version.version)) return { kind: 'text_changed' };
    // Nobody has answered this text: it is replaced whole, as if stored now (its seal covers the time).
    list[index] = { ...version };
    return { kind: 'ok' };
  }

  async requirementVersions(ids: string[]): Promise<StoredRequirementVersion[]> {
    return ids.flatMap((id) => (this.versions.get(id) ?? []).map(copy));
  }

  async current(pseudonym: string): Promise<SubjectSnapshot | null> {
    const chain = this.chainOf(pseudonym);
    return chain ? this.snapshot(chain) : null;
  }

  async write<T>(
    pseudonym: string,
    plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
  ): Promise<{ result: T; eventIds: string[] }> {
    // Synchronous from snapshot to commit: no other write can interleave in this process.
    const chain = this.chainFor(pseudonym);
    const planned = plan(this.snapshot(chain));
    return { result: planned.result, eventIds: this.commit(pseudonym, chain, planned.plan) };
  }

  async writeMany(pseudonyms: string[], plan: BatchPlanner): Promise<void> {
    // Plan every subject before applying anything: a throw leaves the store untouched.
    const planned = [...new Set(pseudonyms)].map((pseudonym) => {
      const chain = this.chainFor(pseudonym);
      return { pseudonym, chain, plan: plan(pseudonym, this.snapshot(chain)) };
    });
    for (const p of planned) this.commit(p.pseudonym, p.chain, p.plan);
  }

  /** The subject's linked chain, or a new empty one (stored by `commit`). */
  private chainFor(pseudonym: string): MemoryChain {
    const chain = this.chainOf(pseudonym);
    if (chain) return chain;
    const key = randomBytes(10).toString('hex');
    return { head: { chain: key, pseudonym, seq: 0, hash: GENESIS, id: null, erased: false, mac: '' }, records: new Map(), events: [], sealedSubject: null };
  }

  /** Seals and applies a plan, links the chain and queues its outbox entries; the event ids. */
  private commit(pseudonym: string, chain: MemoryChain, plan: WritePlan): string[] {
    this.apply(chain, plan);
    for (const record of plan.records) chain.records.set(record.requirement, copy(record));
    if (plan.sealedSubject !== undefined) chain.sealedSubject = plan.sealedSubject;
    this.chains.set(chain.head.chain, chain);
    this.linked.set(pseudonym, chain.head.chain);
    const eventIds = plan.events.length === 0 ? [] : chain.events.slice(-plan.events.length).map((e) => e.id);
    this.outbox.add(chain.head.chain, plan.outbox ?? [], eventIds);
    return eventIds;
  }

  async erase(pseudonym: string, plan: (snapshot: SubjectSnapshot) => WritePlan): Promise<number | null> {
    const chain = this.chainOf(pseudonym);
    if (!chain) return null;
    const redacted = chain.events.length;
    const planned = plan(this.snapshot(chain));
    // The erase event keeps its own fields (who asked): only the events before it are redacted.
    for (const event of chain.events) Object.assign(event, { actor: null, note: null, data: null, ip: null, userAgent: null, personalSalt: null });
    this.apply(chain, planned);
    chain.records.clear();
    chain.sealedSubject = null;
    this.outbox.deleteChain(chain.head.chain);
    this.linked.delete(pseudonym);
    return redacted;
  }

  async history(pseudonym: string, query: TrackerHistoryQuery): Promise<StoredEvent[]> {
    const events = this.chainOf(pseudonym)?.events ?? [];
    const out: StoredEvent[] = [];
    for (let i = events.length - 1; i >= 0 && out.length < query.limit; i -= 1) {
      const event = events[i] as StoredEvent;
      if (query.beforeSeq !== undefined && event.seq >= query.beforeSeq) continue;
      if (query.requirement !== undefined && event.requirement !== query.requirement) continue;
      out.push(copy(event));
    }
    return out;
  }

  async scanEvents(query: EventScanQuery): Promise<StoredEvent[]> {
    const keys = [...this.chains.keys()].sort().filter((key) => query.chain === undefined || key === query.chain);
    const out: StoredEvent[] = [];
    for (const key of keys) {
      if (query.after && key < query.after.chain) continue;
      for (const event of (this.chains.get(key) as MemoryChain).events) {
        if (query.after && key === query.after.chain && event.seq <= query.after.seq) continue;
        out.push(copy(event));
        if (out.length >= query.limit) return out;
      }
    }
    return out;
  }

  async heads(query: HeadScanQuery): Promise<SealedHead[]> {
    const wanted = query.pseudonym === undefined ? null : this.linked.get(query.pseudonym);
    return [...this.chains.keys()]
      .sort()
      .filter((key) => query.after === undefined || key > query.after)
      .filter((key) => query.chains === undefined || query.chains.includes(key))
      .filter((key) => wanted === null || key === wanted)
      .slice(0, query.limit)
      .map((key) => {
        const chain = this.chains.get(key) as MemoryChain;
        return { ...copy(chain.head), records: [...chain.records.values()].map(copy), sealedSubject: chain.sealedSubject };
      });
  }

  async sealLog(fold: LogFold): Promise<LogHead | null> {
    return this.log.seal(fold);
  }

  async logHead(): Promise<LogHead | null> {
    return this.log.copyHead();
  }

  async logEntries(query: { after?: string; limit: number }): Promise<LogEntry[]> {
    return this.log.page(query);
  }

  async logBlocks(query: LogBlockQuery): Promise<LogBlock[]> {
    return this.log.blockPage(query);
  }

  async logLeaves(query: { from: LeafPosition; count: number }): Promise<Buffer> {
    return this.log.leaves(query);
  }

  async auditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    return auditPage(this.linked, this.chains.values(), query);
  }

  async stats(now: number): Promise<StoreStats> {
    return { ...memoryStats(this.linked.size, this.chains.values(), now), outbox: this.outbox.backlog() };
  }

  async dailyCounts(from: number): Promise<DailyCount[]> {
    return memoryDailyCounts(this.chains.values(), from);
  }

  async allRequirementVersions(): Promise<StoredRequirementVersion[]> {
    return [...this.versions.keys()].sort().flatMap((id) => (this.versions.get(id) ?? []).map(copy));
  }

  async readSetting(name: string): Promise<string | null> {
    return this.settings.get(name) ?? null;
  }

  async audience(query: AudienceQuery): Promise<AudienceEntry[]> {
    return memoryAudience(this.linked, this.chains, (chain) => this.snapshot(chain), query);
  }

  async storeSealedSubject(pseudonym: string, seal: (chain: string) => string): Promise<boolean> {
    const chain = this.chainOf(pseudonym);
    if (!chain) return false;
    chain.sealedSubject = seal(chain.head.chain);
    return true;
  }

  async snapshots(pseudonyms: readonly string[]): Promise<Array<SubjectSnapshot | null>> {
    return pseudonyms.map((pseudonym) => {
      const chain = this.chainOf(pseudonym);
      return chain ? this.snapshot(chain) : null;
    });
  }

  private chainOf(pseudonym: string): MemoryChain | undefined {
    const key = this.linked.get(pseudonym);
    return key === undefined ? undefined : this.chains.get(key);
  }

  private snapshot(chain: MemoryChain): SubjectSnapshot {
    const { head } = chain;
    return {
      chain: head.chain,
      pseudonym: head.pseudonym ?? '',
      seq: head.seq,
      hash: head.hash,
      headId: head.id,
      mac: head.mac,
      records: [...chain.records.values()].map(copy),
    };
  }

  private apply(chain: MemoryChain, plan: WritePlan): void {
    const ids = plan.events.map(() => String(this.nextEventId++));
    const sealed = plan.seal(ids);
    chain.events.push(...sealed.events.map(copy));
    chain.head = copy(sealed.head);
    this.log.append(encodeLeaves(sealed.events));
  }

  async lapsedGrants(query: { now: number; limit: number; after?: string }): Promise<LapsedGrant[]> {
    const found: LapsedGrant[] = [];
    for (const [pseudonym, chain] of this.linked) {
      for (const r of (this.chains.get(chain) as MemoryChain).records.values()) {
        const key = `${chain}/${r.requirement}`;
        if (query.after !== undefined && key <= query.after) continue;
        if (r.decision === 'granted' && !r.expiryRecorded && r.expiresAt !== null && r.expiresAt <= query.now) {
          found.push({ pseudonym, requirement: r.requirement, key, sealedSubject: (this.chains.get(chain) as MemoryChain).sealedSubject });
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

  async outboxClaimed(entry: ClaimedOutboxEntry): Promise<boolean> {
    return this.outbox.claimed(entry);
  }

  /** Whether an event names the version (`answered`: one not imported). */
  private referenced(id: string, version: number, answered = false): boolean {
    for (const chain of this.chains.values()) {
      if (chain.events.some((e) => e.requirement === id && e.version === version && !(answered && e.source === 'import'))) return true;
    }
    return false;
  }
}

import type { AudienceEntry, AudienceQuery } from './audience-capability';
import type { CurrentRecord } from './records';

/** The parts of a memory chain the audience queries read. */
export interface MemoryAudienceView {
  records: Map<string, CurrentRecord>;
  sealedSubject: string | null;
}

/** `MemoryTracker.audience`: the linked chains in key order, after `after`, with their record. */
export function memoryAudience(linked: Map<string, string>, chains: Map<string, MemoryAudienceView>, query: AudienceQuery): AudienceEntry[] {
  const keys = [...linked.values()].filter((key) => query.after === undefined || key > query.after).sort();
  return keys.slice(0, query.limit).map((key) => {
    const chain = chains.get(key) as MemoryAudienceView;
    const record = chain.records.get(query.requirement);
    return { chain: key, sealedSubject: chain.sealedSubject, record: record ? { ...record } : null };
  });
}

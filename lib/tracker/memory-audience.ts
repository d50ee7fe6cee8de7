import type { AudienceEntry, AudienceQuery } from './audience-capability';
import type { SubjectSnapshot } from './records';

/** The parts of a memory chain the audience queries read. */
export interface MemoryAudienceView {
  sealedSubject: string | null;
}

/** `MemoryTracker.audience`: the linked chains in key order, after `after`, with their snapshot and sealed id. */
export function memoryAudience<C extends MemoryAudienceView>(
  linked: Map<string, string>,
  chains: Map<string, C>,
  snapshot: (chain: C) => SubjectSnapshot,
  query: AudienceQuery,
): AudienceEntry[] {
  const keys = [...linked.values()].filter((key) => query.after === undefined || key > query.after).sort();
  return keys.slice(0, query.limit).map((key) => {
    const chain = chains.get(key) as C;
    return { snapshot: snapshot(chain), sealedSubject: chain.sealedSubject };
  });
}

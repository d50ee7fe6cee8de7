import { chainSealer } from '../audit/seal';
import type { CurrentRecord, DraftEvent, SubjectSnapshot, WritePlan } from '../tracker/records';
import type { Decision, Requirement, Source } from '../types';
import { stateOf } from './derive';
import { denialAction } from './plan';

const DAY_MS = 86_400_000;

/** One imported decision, validated: its own version, time and source. */
export interface ImportedDecision {
  requirement: Requirement;
  version: number;
  decision: Decision;
  at: number;
  source: Source;
  /** Where the question was asked. @default null */
  context?: string | null;
}

/**
 * Plans the imported decisions of one subject, appended after its existing events and sealed
 * like every other event (the same `sealChain` as `planBatch`: ids, head). An imported grant is a `grant` even for a double opt-in requirement:
 * the other system already holds the confirmation. Each decision replaces the current record,
 * so the latest imported decision decides, as for any event.
 */
export function planImport(
  snapshot: SubjectSnapshot,
  decisions: readonly ImportedDecision[],
  chainKey: Buffer,
  digest: string | null,
): WritePlan {
  const records = new Map<string, CurrentRecord>();
  for (const record of snapshot.records) records.set(record.requirement, record);
  const touched = new Set<string>();
  const events: DraftEvent[] = [];
  let { seq } = snapshot;
  for (const d of decisions) {
    const { requirement, at } = d;
    const granted = d.decision === 'granted';
    // Only a denial's action depends on the state before it (withdraw or deny).
    const action = granted ? ('grant' as const) : denialAction(stateOf(records.get(requirement.id), requirement, at));
    const after: CurrentRecord = {
      requirement: requirement.id,
      decision: d.decision,
      version: d.version,
      decidedAt: at,
      expiresAt: granted && requirement.expiresAfterDays !== null ? at + requirement.expiresAfterDays * DAY_MS : null,
      gpcOptIn: false,
      pendingVersion: null,
      pendingAt: null,
      pendingExpiresAt: null,
      pendingToken: null,
      expiryRecorded: false,
    };
    seq += 1;
    events.push({
      chain: snapshot.chain,
      seq,
      requirement: requirement.id,
      version: d.version,
      action,
      state: stateOf(after, requirement, at),
      source: d.source,
      actor: null,
      at,
      note: null,
      data: null,
      ip: null,
      userAgent: null,
      personalDigest: digest,
      context: d.context ?? null,
    });
    records.set(requirement.id, after);
    touched.add(requirement.id);
  }
  const changed = [...touched].map((id) => records.get(id) as CurrentRecord);
  return {
    events,
    records: changed,
    // Remembers its events: a batch prepared ahead is not hashed again when written as prepared.
    seal: chainSealer(chainKey, snapshot, events, changed),
  };
}

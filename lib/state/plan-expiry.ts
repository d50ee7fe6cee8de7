import { NO_PERSONAL_FIELDS, storedDigest } from '../audit/chain';
import { sealChain } from '../audit/seal';
import type { CurrentRecord, DraftEvent, SubjectSnapshot, WritePlan } from '../tracker/records';
import type { Requirement } from '../types';
import { deriveState } from './derive';
import { batchTime } from './batch-time';
import type { Change } from './plan';

/**
 * Plans the `expire` events of a subject's lapsed grants (source `sweep`), once each: a grant
 * whose expiry passed and whose record is not yet marked. A grant hidden behind an open double
 * opt-in request waits until the request is settled; one that no longer counts anyway (an older
 * version, an id no longer registered) is only marked. Pure, like `planBatch`.
 */
export function planExpiry(
  snapshot: SubjectSnapshot,
  ids: string[],
  lookup: (id: string) => Requirement | undefined,
  now: number,
  chainKey: Buffer,
): { plan: WritePlan; changes: Change[] } {
  const digest = storedDigest(chainKey, NO_PERSONAL_FIELDS);
  // Dated as a batch is: a sweep's clock, read once for its pass, may be behind an answer written meanwhile.
  const at = batchTime(snapshot.records, now);
  const events: DraftEvent[] = [];
  const changes: Change[] = [];
  const records: CurrentRecord[] = [];
  let { seq } = snapshot;
  for (const record of snapshot.records) {
    if (!ids.includes(record.requirement)) continue;
    if (record.decision !== 'granted' || record.expiryRecorded || record.expiresAt === null || record.expiresAt > now) continue;
    const requirement = lookup(record.requirement);
    const state = requirement ? deriveState(record, requirement, now).state : 'outdated';
    if (state === 'pending') continue;
    records.push({ ...record, expiryRecorded: true });
    if (state !== 'expired') continue;
    seq += 1;
    events.push({
      chain: snapshot.chain,
      seq,
      requirement: record.requirement,
      version: record.version ?? 0,
      action: 'expire',
      state: 'expired',
      source: 'sweep',
      actor: null,
      at,
      note: null,
      data: null,
      ip: null,
      userAgent: null,
      personalDigest: digest,
      context: null,
    });
    changes.push({ requirement: record.requirement, action: 'expire', previous: 'granted', state: 'expired', seq, at });
  }
  return { plan: { events, records, seal: (ids) => sealChain(chainKey, snapshot, events, ids, records) }, changes };
}

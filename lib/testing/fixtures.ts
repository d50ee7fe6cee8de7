import { createHash } from 'node:crypto';
import { GENESIS } from '../audit/chain';
import type { CurrentRecord, NewEvent, StoredRequirementVersion, SubjectSnapshot, WritePlan } from '../tracker/records';
import { emptyRecord } from '../tracker/records';

export { GENESIS };

const hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A stored requirement version with a text hash that follows its title. */
export function storedVersion(id: string, version: number, title = `Title of ${id} v${version}`): StoredRequirementVersion {
  return {
    id,
    version,
    title,
    description: `Description of ${id}`,
    url: null,
    lawfulBasis: 'consent',
    textHash: hex(`${id}/${version}/${title}`),
    createdAt: 1_700_000_000_000,
  };
}

/** An event continuing `snapshot` at position `offset` (1 for the first new event). */
export function eventAfter(snapshot: SubjectSnapshot, offset: number, extra: Partial<NewEvent> = {}): NewEvent {
  const seq = snapshot.seq + offset;
  return {
    chain: snapshot.chain,
    seq,
    requirement: 'analytics',
    version: 1,
    action: 'grant',
    state: 'granted',
    source: 'app',
    actor: null,
    at: 1_700_000_000_000 + seq,
    note: null,
    data: null,
    ip: null,
    userAgent: null,
    personalDigest: hex(`digest ${seq}`),
    hash: hex(`${snapshot.chain} ${seq}`),
    ...extra,
  };
}

/** A granted record with every field set to something distinguishable. */
export function grantedRecord(requirement: string, extra: Partial<CurrentRecord> = {}): CurrentRecord {
  return {
    ...emptyRecord(requirement),
    decision: 'granted',
    version: 1,
    decidedAt: 1_700_000_000_001,
    expiresAt: null,
    ...extra,
  };
}

/** A plan appending `events` and writing `records`, with the head on the last event. */
export function planOf(snapshot: SubjectSnapshot, events: NewEvent[], records: CurrentRecord[]): WritePlan {
  const last = events[events.length - 1];
  return {
    events,
    records,
    head: last ? { seq: last.seq, hash: last.hash, mac: hex(`mac ${last.hash}`) } : { seq: snapshot.seq, hash: snapshot.hash, mac: '' },
  };
}

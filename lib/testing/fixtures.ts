import { createHash } from 'node:crypto';
import { GENESIS } from '../audit/chain';
import { leafCount, leafId } from '../audit/log-leaf';
import { sealChain } from '../audit/seal';
import type { ConsentTracker } from '../tracker/tracker';
import type { CurrentRecord, DraftEvent, StoredRequirementVersion, SubjectSnapshot, WritePlan } from '../tracker/records';
import { emptyRecord } from '../tracker/records';

export { GENESIS };

const hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * A pseudonym for a test subject: what the library hands a tracker is always an HMAC-SHA-256,
 * 64 lowercase hex digits, and a tracker may store it as the 32 bytes it stands for.
 */
export function pseudonymFor(label: string): string {
  return hex(`subject ${label}`);
}

/** A stored requirement version with a text hash that follows its title. */
export function storedVersion(id: string, version: number, title = `Title of ${id} v${String(version)}`): StoredRequirementVersion {
  return {
    id,
    version,
    title,
    description: `Description of ${id}`,
    url: null,
    lawfulBasis: 'consent',
    textHash: hex(`${id}/${String(version)}/${title}`),
    createdAt: 1_700_000_000_000,
    texts: null,
    effectiveFrom: null,
    mac: hex(`seal of ${id}/${String(version)}/${title}`),
  };
}

/** An event continuing `snapshot` at position `offset` (1 for the first new event). */
export function eventAfter(snapshot: SubjectSnapshot, offset: number, extra: Partial<DraftEvent> = {}): DraftEvent {
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
    personalDigest: hex(`digest ${String(seq)}`),
    context: null,
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

/** The key the fixtures seal chains with (never use a constant key in an application). */
export const FIXTURE_KEY = Buffer.alloc(32, 7);

/** A personal salt for the fixtures' events that have personal fields. */
export const FIXTURE_SALT = '5a'.repeat(16);

/** A plan appending `events` and writing `records`, sealed with `FIXTURE_KEY`. */
export function planOf(snapshot: SubjectSnapshot, events: DraftEvent[], records: CurrentRecord[]): WritePlan {
  return { events, records, seal: (ids) => sealChain(FIXTURE_KEY, snapshot, events, ids, records) };
}

/** The ids and hashes of every leaf of a tracker's log, in log order (sealed or not). */
export async function loggedEvents(tracker: Pick<ConsentTracker, 'logEntries'>): Promise<Array<{ id: string; hash: string }>> {
  const out: Array<{ id: string; hash: string }> = [];
  for (let after: string | undefined; ;) {
    const page = await tracker.logEntries({ after, limit: 100 });
    for (const entry of page) {
      for (let i = 0; i < leafCount(entry.leaves); i += 1) out.push({ id: leafId(entry.leaves, i), hash: entry.leaves.toString('hex', i * 40 + 8, i * 40 + 40) });
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < 100) return out;
    after = last.key;
  }
}

/** The records `current()` read for `pseudonym` (none when it has no chain), sorted by requirement. */
export async function currentRecords(tracker: { current(pseudonym: string): Promise<SubjectSnapshot | null> }, pseudonym: string): Promise<CurrentRecord[]> {
  const snapshot = await tracker.current(pseudonym);
  return [...(snapshot?.records ?? [])].sort((a, b) => a.requirement.localeCompare(b.requirement));
}

import { snapshotSealed } from '../audit/head-seal';
import { hmacHex } from '../audit/keys';
import { isAllowedNow, recordOf } from '../state/derive';
import { rowsOfText, snapshotsOfRows } from '../tracker/audience-rows';
import type { SubjectSnapshot } from '../tracker/records';
import type { Requirement } from '../types';

/*
 * `filterAllowed()` on worker threads (see audience-worker.ts) or on the main thread, with the
 * same code: the pseudonyms of a batch of subject ids, and whether each is allowed from the rows
 * a tracker read for them (`AudienceCapability.snapshotRows`). Pure.
 */

/** The pseudonyms of `subjects` (normalized ids), in hex, end to end (64 digits each). */
export function packedPseudonyms(key: Buffer, subjects: readonly string[]): string {
  let out = '';
  for (const subject of subjects) out += hmacHex(key, subject);
  return out;
}

/** The pseudonyms `packedPseudonyms` gave, one by one. */
export function unpackedPseudonyms(packed: string): string[] {
  const out: string[] = [];
  for (let at = 0; at < packed.length; at += 64) out.push(packed.slice(at, at + 64));
  return out;
}

/**
 * A batch judged: a byte per pseudonym (1 allowed, 0 not) and the instant until which every one
 * of them holds under the same version (the first expiry after `now` among the batch's records);
 * or the integrity failure that stops the filter.
 */
export type LookupVerdicts = { allowed: Uint8Array; until: number; failure: null } | { allowed: null; until: null; failure: string };

/** Why a batch's rows are refused as a storage failure: some pseudonym asked has none. */
export class RowsLeftOut extends Error {}

/** The next instant after `now` at which the state of `snapshot`'s record of `requirement` changes with time alone. */
function changesAt(snapshot: SubjectSnapshot, requirement: string, now: number): number {
  const record = recordOf(snapshot.records, requirement);
  let at = Infinity;
  for (const t of [record?.expiresAt, record?.pendingExpiresAt]) if (typeof t === 'number' && t > now && t < at) at = t;
  return at;
}

/**
 * Whether each of `pseudonyms` (the batch's, in order, repeats allowed) is allowed under
 * `requirement` at `now`, from `text`: rows for every pseudonym asked (one with a null chain
 * and no record for a pseudonym no subject is linked to). A subject's records count only once
 * its head's seal vouches for them and for its link.
 *
 * @throws SyntaxError for text that is not JSON; TypeError for one that is not an array of
 *   rows; RowsLeftOut when a pseudonym asked has no row, or a subject-less one has records.
 */
export function lookupVerdicts(chainKey: Buffer, text: string, pseudonyms: readonly string[], requirement: Requirement, now: number, gpc: boolean): LookupVerdicts {
  const found = snapshotsOfRows(rowsOfText(text));
  const checked = new Set<SubjectSnapshot>();
  const allowed = new Uint8Array(pseudonyms.length);
  let until = Infinity;
  for (let i = 0; i < pseudonyms.length; i += 1) {
    const snapshot = found.get(pseudonyms[i] as string);
    // Left out, it would read as "no subject": under legitimate interests, allowed.
    if (snapshot === undefined) throw new RowsLeftOut('the rows leave out a subject asked for');
    const linked = snapshot.chain !== '';
    if (!linked && snapshot.records.length > 0) throw new RowsLeftOut('a row without a subject holds a record');
    if (linked && !checked.has(snapshot)) {
      if (!snapshotSealed(chainKey, snapshot)) return { allowed: null, until: null, failure: "a subject's stored records (or its link)" };
      checked.add(snapshot);
      until = Math.min(until, changesAt(snapshot, requirement.id, now));
    }
    const record = linked ? recordOf(snapshot.records, requirement.id) : undefined;
    allowed[i] = isAllowedNow(record, requirement, now, gpc) ? 1 : 0;
  }
  return { allowed, until, failure: null };
}

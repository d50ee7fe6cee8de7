import { snapshotSealed } from '../audit/head-seal';
import { hmacHex } from '../audit/keys';
import { isAllowedNow } from '../state/derive';
import { AUDIENCE_HEX_AT, lowerHexAt, snapshotsOfRows } from '../tracker/audience-rows';
import type { CurrentRecord, SubjectSnapshot } from '../tracker/records';
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

/** A batch judged: a byte per pseudonym (1 allowed, 0 not), or the integrity failure that stops the filter. */
export type LookupVerdicts = { allowed: Uint8Array; failure: null } | { allowed: null; failure: string };

function recordOf(records: readonly CurrentRecord[], requirement: string): CurrentRecord | undefined {
  for (const record of records) if (record.requirement === requirement) return record;
  return undefined;
}

/**
 * Whether each of `pseudonyms` (the batch's, in order, repeats allowed) is allowed under
 * `requirement` at `now`, from `text`: a subject's records count only once its head's seal
 * vouches for them and for its link; a pseudonym no row names has no subject.
 *
 * @throws SyntaxError for text that is not JSON; TypeError for one that is not an array of rows.
 */
export function lookupVerdicts(chainKey: Buffer, text: string, pseudonyms: readonly string[], requirement: Requirement, now: number, gpc: boolean): LookupVerdicts {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new TypeError('a lookup page is not an array of rows');
  for (const row of parsed) {
    if (!Array.isArray(row)) throw new TypeError('a lookup row is not an array');
    lowerHexAt(row as unknown[], AUDIENCE_HEX_AT);
  }
  const found = snapshotsOfRows(parsed as unknown[][]);
  const checked = new Set<SubjectSnapshot>();
  const allowed = new Uint8Array(pseudonyms.length);
  for (let i = 0; i < pseudonyms.length; i += 1) {
    const snapshot = found.get(pseudonyms[i] as string);
    if (snapshot !== undefined && !checked.has(snapshot)) {
      if (!snapshotSealed(chainKey, snapshot)) return { allowed: null, failure: "a subject's stored records (or its link)" };
      checked.add(snapshot);
    }
    const record = snapshot === undefined ? undefined : recordOf(snapshot.records, requirement.id);
    allowed[i] = isAllowedNow(record, requirement, now, gpc) ? 1 : 0;
  }
  return { allowed, failure: null };
}

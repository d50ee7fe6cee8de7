import type { ChainHead, CurrentRecord, StoredRequirementVersion, SubjectSnapshot } from '../tracker/records';
import { canonicalJson } from './canonical-json';
import { GENESIS } from './chain';
import { hmacHex, hmacTextMatches, sameText } from './keys';

/*
 * Seals of the rows the read paths trust besides the events: a chain's head binds the subject's
 * link (pseudonym, or the erased flag) and every current record of the subject, so a state row
 * edited, added or deleted, or a pseudonym moved to another chain, no longer matches its head.
 * Requirement versions carry a seal of their own. Pure.
 */

// What JSON.stringify escapes in a string: quote, backslash, controls and (lone) surrogates.
// eslint-disable-next-line no-control-regex -- the controls are exactly what must be escaped
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

// Printed for a value outside the types: no JSON text holds it, so no seal the library made
// (always over the primitives it wrote) matches it.
const FOREIGN = '?';

/**
 * One value as `JSON.stringify` prints it inside an array, for the primitives a tracker should
 * give (and `undefined`, a field it left out, as `null`). Anything else a custom tracker hands
 * over (a Date, a boxed or bigint value, an object with `toJSON`) prints as no JSON value does,
 * so its seal fails: a read uses such a value by its truthiness, and `new Boolean(false)` must
 * never pass for the `false` that was sealed.
 */
function json(value: unknown): string {
  if (typeof value === 'string') return ESCAPED.test(value) ? JSON.stringify(value) : `"${value}"`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value === null || value === undefined ? 'null' : FOREIGN;
}

/** Whether the records are in strictly ascending requirement order. */
function inOrder(records: readonly CurrentRecord[]): boolean {
  for (let i = 1; i < records.length; i += 1) if (!((records[i - 1] as CurrentRecord).requirement < (records[i] as CurrentRecord).requirement)) return false;
  return true;
}

/**
 * The canonical encoding of a subject's records: sorted by requirement, each one an array of
 * every member a read uses, in a fixed order. The same text as `JSON.stringify` of those arrays,
 * written out without them: verification encodes every record of the store.
 */
export function recordsJson(records: readonly CurrentRecord[]): string {
  // Stored records are read in requirement order: sorted again only when they are not.
  const sorted = inOrder(records) ? records : [...records].sort((a, b) => (a.requirement < b.requirement ? -1 : a.requirement > b.requirement ? 1 : 0));
  let out = '[';
  for (let i = 0; i < sorted.length; i += 1) {
    const r = sorted[i] as CurrentRecord;
    out += `${i === 0 ? '' : ','}[${json(r.requirement)},${json(r.decision)},${json(r.version)},${json(r.decidedAt)},${json(r.expiresAt)},` +
      `${json(r.gpcOptIn)},${json(r.pendingVersion)},${json(r.pendingAt)},${json(r.pendingExpiresAt)},${json(r.pendingToken)},${json(r.expiryRecorded)}]`;
  }
  return `${out}]`;
}

/** The sealed fields of a head: everything of `ChainHead` but its seal. */
export type HeadSealFields = Omit<ChainHead, 'mac'>;

// A head's seal is HMAC-SHA-256 truncated to 128 bits (as RFC 4868 does for IPsec): one is
// stored per subject, and 16 bytes resist forgery as well as the 32 would here.
const HEAD_SEAL_HEX = 32;

/**
 * The keyed seal of a chain's head: its position (seq, hash and id of the newest event), the
 * subject's link (the pseudonym, null once erased, and the erased flag) and the canonical
 * encoding of the subject's current records. 32 hex digits.
 */
export function headSeal(key: Buffer, head: HeadSealFields, records: readonly CurrentRecord[]): string {
  return hmacHex(key, headSealInput(head, records)).slice(0, HEAD_SEAL_HEX);
}

/**
 * The text `headSeal` is the (truncated) HMAC of: the same text as `JSON.stringify` of the
 * head's members, written out without the array (every read that decides checks a seal).
 */
export function headSealInput(head: HeadSealFields, records: readonly CurrentRecord[]): string {
  const fields = `[${json(head.chain)},${json(head.pseudonym)},${json(head.erased)},${json(head.seq)},${json(head.hash)},${json(head.id)}]`;
  return `ec4-head\n${fields}\n${recordsJson(records)}`;
}

/** A chain no write has sealed yet: created empty, with no records. */
export function isUnsealedEmpty(s: Pick<SubjectSnapshot, 'seq' | 'headId' | 'hash' | 'mac' | 'records'>): boolean {
  return s.mac === '' && s.seq === 0 && s.headId === null && s.hash === GENESIS && s.records.length === 0;
}

/**
 * Whether a subject's snapshot (head, link and records, as a tracker read them) is the one the
 * library sealed: every read that decides and every write checks this before trusting it.
 */
export function snapshotSealed(key: Buffer, snapshot: SubjectSnapshot): boolean {
  if (isUnsealedEmpty(snapshot)) return true;
  // A stored seal of another type or length (a custom tracker's) matches nothing.
  if (typeof snapshot.mac !== 'string' || snapshot.mac.length !== HEAD_SEAL_HEX) return false;
  return hmacTextMatches(key, snapshotSealInput(snapshot), snapshot.mac);
}

/** The text a linked subject's snapshot is sealed over (see `snapshotSealed`). */
function snapshotSealInput(snapshot: SubjectSnapshot): string {
  const head = { chain: snapshot.chain, pseudonym: snapshot.pseudonym, erased: false, seq: snapshot.seq, hash: snapshot.hash, id: snapshot.headId };
  return headSealInput(head, snapshot.records);
}

/** Whether a head (its own fields and records, as verification reads them) carries the seal the library made. */
export function headSealed(key: Buffer, head: HeadSealFields & { mac: string; records: readonly CurrentRecord[] }): boolean {
  return head.mac !== '' && sameText(headSeal(key, head, head.records), head.mac);
}

/** The records after a write: the snapshot's, replaced by the plan's of the same requirement. */
export function recordsAfter(before: readonly CurrentRecord[], changed: readonly CurrentRecord[]): CurrentRecord[] {
  if (changed.length === 0) return [...before];
  const byId = new Map(before.map((r) => [r.requirement, r]));
  for (const r of changed) byId.set(r.requirement, r);
  return [...byId.values()];
}

/** The sealed members of a stored requirement version: all of them but the seal. */
type VersionFields = Omit<StoredRequirementVersion, 'mac'>;

/** The keyed seal of a stored requirement version: its text, lawful basis, text hash and time. */
export function versionSeal(key: Buffer, version: VersionFields): string {
  const { mac: _mac, texts, effectiveFrom, ...fields } = version as StoredRequirementVersion;
  // Members a version without them never had stay out, so that seals written before them hold.
  const sealed = { ...fields, ...(texts ? { texts } : {}), ...(typeof effectiveFrom === 'number' ? { effectiveFrom } : {}) };
  return hmacHex(key, `ec4-version\n${canonicalJson(sealed)}`);
}

/** Whether a stored requirement version is the one the library sealed. */
export function versionSealed(key: Buffer, version: StoredRequirementVersion): boolean {
  return typeof version.mac === 'string' && version.mac !== '' && sameText(versionSeal(key, version), version.mac);
}

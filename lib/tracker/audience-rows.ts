import { GENESIS } from '../audit/chain';
import type { Decision } from '../types';
import type { AudienceEntry } from './audience-capability';
import type { CurrentRecord, SubjectSnapshot } from './records';
import { recordsOrUnreadable } from './stored-records';

/*
 * The rows of an audience page as `AudienceCapability.audienceRows` gives them (JSON text, decoded
 * and checked on a worker thread) and as the Knex tracker reads them: one decoder for both, so a
 * page judged on a thread is the page the main thread would have judged. Pure.
 */

/**
 * The values of a row, in order: a record of the subject (null from `requirement` to
 * `expiry_recorded` for a subject with no record, or whose records the row holds together), then
 * the subject's link, head and sealed id, and optionally all its records at once as
 * `encodeRecords` writes them (`records`). A subject's records come either as a row each or in
 * its one row's `records`. Bytes (`chain`, `pending_token`, `pseudonym`, `head_hash`, `head_mac`,
 * `sealed_subject`, `records`) are hex in either case; `gpc_opt_in` and `expiry_recorded` true or
 * false, or 1 or 0; numbers may be numbers or decimal strings; `head_id` a number or a decimal
 * string.
 */
export const AUDIENCE_ROW_COLUMNS = [
  'chain', 'requirement', 'decision', 'version', 'decided_at', 'expires_at', 'gpc_opt_in', 'pending_version',
  'pending_at', 'pending_expires_at', 'pending_token', 'expiry_recorded',
  'pseudonym', 'seq', 'head_hash', 'head_id', 'head_mac', 'sealed_subject', 'records',
] as const;

/** Where each column is in a row. */
export const AUDIENCE_AT = Object.fromEntries(AUDIENCE_ROW_COLUMNS.map((name, i) => [name, i])) as Readonly<Record<(typeof AUDIENCE_ROW_COLUMNS)[number], number>>;
const { chain: CHAIN, requirement: REQUIREMENT, pseudonym: PSEUDONYM, seq: SEQ, head_hash: HEAD_HASH, head_id: HEAD_ID, head_mac: HEAD_MAC } = AUDIENCE_AT;
const { sealed_subject: SEALED_SUBJECT, records: RECORDS } = AUDIENCE_AT;
/** Where a row holds bytes (as hex). */
export const AUDIENCE_HEX_AT: readonly number[] = (['chain', 'pending_token', 'pseudonym', 'head_hash', 'head_mac', 'sealed_subject', 'records'] as const).map((name) => AUDIENCE_AT[name]);

// PostgreSQL returns BIGINT as a string; SQLite as a number. Both fit a double (epoch ms).
export const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
// The caller names S (a column of states, actions…): the reader then returns that union.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- see above
export const textOrNull = <S extends string = string>(value: unknown): S | null => (value as S | null | undefined) ?? null;
/** Event ids are BIGINT: a decimal string whatever the driver returned. */
export const idOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : (value as string | number).toString());

/**
 * A record from a row's values (the chain first, then the record's columns in
 * `AUDIENCE_ROW_COLUMNS` order), without an object per row in between: `verify()` reads every
 * record of the store through here.
 */
export function recordOfValues(v: readonly unknown[]): CurrentRecord {
  return {
    requirement: v[1] as string,
    decision: textOrNull<Decision>(v[2]),
    version: numOrNull(v[3]),
    decidedAt: numOrNull(v[4]),
    expiresAt: numOrNull(v[5]),
    gpcOptIn: Boolean(v[6]),
    pendingVersion: numOrNull(v[7]),
    pendingAt: numOrNull(v[8]),
    pendingExpiresAt: numOrNull(v[9]),
    pendingToken: textOrNull(v[10]),
    expiryRecorded: Boolean(v[11]),
  };
}

/**
 * A head's position and hash from its subject's head id and the head event's `seq` and `hash`:
 * an empty chain's without a head id. A head id whose event is gone reads as position 0
 * without a hash, which no seal covers.
 */
export function headPosition(headId: unknown, seq: unknown, hash: unknown): { seq: number; hash: string } {
  if (headId === null || headId === undefined) return { seq: 0, hash: GENESIS };
  return { seq: seq === null || seq === undefined ? 0 : Number(seq), hash: (hash as string | null | undefined) ?? '' };
}

/** The order of rows whose first two values are their chain and requirement. */
export const byChainThenRequirement = (a: readonly unknown[], b: readonly unknown[]): boolean =>
  (a[CHAIN] as string) < (b[CHAIN] as string) || (a[CHAIN] === b[CHAIN] && (a[REQUIREMENT] as string) < (b[REQUIREMENT] as string));

/** Lowers in place the hex that `row` holds at `at` (SQLite's `hex` gives capitals). */
export function lowerHexAt(row: unknown[], at: readonly number[]): void {
  for (const i of at) {
    const value = row[i];
    if (typeof value === 'string') row[i] = value.toLowerCase();
  }
}

/**
 * Adds to `snapshot` the records a row holds: its record, or all its records at once (records
 * that do not decode as one that no seal covers: `recordsOrUnreadable`).
 */
function addRecords(snapshot: SubjectSnapshot, v: readonly unknown[]): void {
  if (v[REQUIREMENT] !== null && v[REQUIREMENT] !== undefined) snapshot.records.push(recordOfValues(v));
  const stored = v[RECORDS];
  if (stored !== null && stored !== undefined) snapshot.records.push(...recordsOrUnreadable(stored));
}

/**
 * The entries of rows (`AUDIENCE_ROW_COLUMNS`, bytes in lowercase hex) that hold each subject's
 * rows together, its records in requirement order.
 *
 * @throws TypeError for a row that is not an array of values.
 */
export function audienceEntriesOfRows(rows: readonly unknown[][]): AudienceEntry[] {
  const entries: AudienceEntry[] = [];
  let snapshot: SubjectSnapshot | undefined;
  for (const v of rows) {
    if (!Array.isArray(v)) throw new TypeError('an audience row is not an array');
    if (snapshot === undefined || snapshot.chain !== v[CHAIN]) {
      const head = headPosition(v[HEAD_ID], v[SEQ], v[HEAD_HASH]);
      snapshot = { chain: v[CHAIN] as string, pseudonym: v[PSEUDONYM] as string, ...head, headId: idOrNull(v[HEAD_ID]), mac: v[HEAD_MAC] as string, records: [] };
      entries.push({ snapshot, sealedSubject: (v[SEALED_SUBJECT] as string | null | undefined) ?? null });
    }
    addRecords(snapshot, v);
  }
  return entries;
}

/**
 * The snapshots that rows (`AUDIENCE_ROW_COLUMNS`, the sealed id left out or not, bytes in
 * lowercase hex) hold, by pseudonym: a lookup's rows, in whatever order they came (no database
 * promises one without a sort), each subject's records in the order its rows came.
 */
export function snapshotsOfRows(rows: readonly unknown[][]): Map<string, SubjectSnapshot> {
  const out = new Map<string, SubjectSnapshot>();
  for (const v of rows) {
    const pseudonym = v[PSEUDONYM] as string;
    let snapshot = out.get(pseudonym);
    if (snapshot === undefined) {
      const head = headPosition(v[HEAD_ID], v[SEQ], v[HEAD_HASH]);
      snapshot = { chain: (v[CHAIN] as string | null) ?? '', pseudonym, ...head, headId: idOrNull(v[HEAD_ID]), mac: (v[HEAD_MAC] as string | null) ?? '', records: [] };
      out.set(pseudonym, snapshot);
    }
    addRecords(snapshot, v);
  }
  return out;
}

/**
 * The rows of a JSON text (`AUDIENCE_ROW_COLUMNS`, hex in either case), their hex lowered.
 * @throws SyntaxError for text that is not JSON; TypeError for one that is not an array of rows.
 */
export function rowsOfText(text: string): unknown[][] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new TypeError('a page of rows is not an array');
  for (const row of parsed) {
    if (!Array.isArray(row)) throw new TypeError('a row is not an array');
    lowerHexAt(row as unknown[], AUDIENCE_HEX_AT);
  }
  return parsed as unknown[][];
}

/**
 * The entries of a page as `AudienceCapability.audienceRows` gives it (JSON text, hex in either
 * case): what both the worker threads and the main thread judge. Rows out of chain and
 * requirement order (no database promises the order of an aggregate) are sorted first.
 *
 * @throws SyntaxError for text that is not JSON; TypeError for one that is not an array of rows.
 */
export function audienceEntriesOfText(text: string): AudienceEntry[] {
  let rows = rowsOfText(text);
  for (let i = 1; i < rows.length; i += 1) {
    if (!byChainThenRequirement(rows[i - 1] as unknown[], rows[i] as unknown[])) {
      rows = [...rows].sort((a, b) => (byChainThenRequirement(a, b) ? -1 : byChainThenRequirement(b, a) ? 1 : 0));
      break;
    }
  }
  return audienceEntriesOfRows(rows);
}

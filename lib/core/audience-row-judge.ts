import { SealBytes } from '../audit/seal-bytes';
import { isAllowedNow, recordOf, stateOf } from '../state/derive';
import { AUDIENCE_AT, AUDIENCE_ROW_COLUMNS } from '../tracker/audience-rows';
import { decodeRecordsHex } from '../tracker/record-blob';
import type { CurrentRecord } from '../tracker/records';
import type { Requirement } from '../types';
import { openedMembers, type AudienceMatch, type JudgedPage, type JudgeKeys, type Matched } from './audience-judge';

/*
 * The judge of the pages a store gives most often, on the worker threads: one row per subject,
 * its records in the row (`records`), every value as the library wrote it. Each head's seal is
 * checked over its text written straight into bytes from the row (seal-bytes.ts), with no
 * snapshot built for it: the text `headSealInput` writes, so the verdicts `judgeEntries` gives
 * (a test holds the two to that). A page with anything else (another layout or order, a value
 * written otherwise, a seal that fails) gives null: the caller then judges it with
 * `judgeEntries`, which decides, and names a failure. Pure.
 */

const { chain: CHAIN, requirement: REQUIREMENT, pseudonym: PSEUDONYM, seq: SEQ, head_hash: HEAD_HASH, head_id: HEAD_ID, head_mac: HEAD_MAC } = AUDIENCE_AT;
const { sealed_subject: SEALED_SUBJECT, records: RECORDS } = AUDIENCE_AT;
const HEAD_SEAL_HEX = 32;

const text = new SealBytes();

/** A page judged, with what the caller checks against its read: subjects on it and the last one's chain. */
export type RowsJudged = JudgedPage & { subjects: number; last: string | null };

/**
 * The records a row holds, decoded from the same text as the general decoder (lowered); null
 * when they do not decode (the general judge fails them).
 */
function rowRecords(value: unknown): CurrentRecord[] | null {
  if (typeof value !== 'string') return null;
  try {
    return decodeRecordsHex(value.toLowerCase());
  } catch {
    return null;
  }
}

/**
 * The members of a page of rows (`AUDIENCE_ROW_COLUMNS` as JSON text) that matches `match` at
 * `now`, or null for a page this judge leaves to `judgeEntries` (see above).
 * @throws SyntaxError for text that is not JSON (as the general decoder does).
 */
export function judgeRowsText(keys: JudgeKeys, rowsText: string, requirement: Requirement, match: AudienceMatch, now: number): RowsJudged | null {
  const rows: unknown = JSON.parse(rowsText);
  if (!Array.isArray(rows)) return null;
  const states = match.states === null ? null : new Set(match.states);
  const matched: Matched[] = [];
  let skipped = 0;
  let last: string | null = null;
  for (const row of rows as unknown[]) {
    if (!Array.isArray(row)) return null;
    const v = row as unknown[];
    if (v.length !== AUDIENCE_ROW_COLUMNS.length || v[REQUIREMENT] !== null || typeof v[CHAIN] !== 'string') return null;
    const chain = v[CHAIN].toLowerCase();
    // Strictly ascending: one row per subject, in the order the general decoder keeps.
    if (last !== null && !(last < chain)) return null;
    last = chain;
    const records = rowRecords(v[RECORDS]);
    const mac = v[HEAD_MAC];
    if (records === null || typeof mac !== 'string' || mac.length !== HEAD_SEAL_HEX) return null;
    if (!text.head(chain, v[PSEUDONYM], v[SEQ], v[HEAD_HASH], v[HEAD_ID]) || !text.records(records)) return null;
    if (!text.sealedWith(keys.chain, mac.toLowerCase())) return null;
    const record = recordOf(records, requirement.id);
    const state = stateOf(record, requirement, now);
    if (states !== null && !states.has(state)) continue;
    if (match.allowed !== null && isAllowedNow(record, requirement, now, match.gpc) !== match.allowed) continue;
    const sealed = v[SEALED_SUBJECT];
    if (sealed === null || sealed === undefined) skipped += 1;
    else if (typeof sealed !== 'string') return null;
    else matched.push({ chain, pseudonym: (v[PSEUDONYM] as string).toLowerCase(), state, sealed: sealed.toLowerCase() });
  }
  return { ...openedMembers(keys, matched), skipped, subjects: rows.length, last };
}

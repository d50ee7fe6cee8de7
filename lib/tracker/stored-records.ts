import { decodeRecords, decodeRecordsHex, RecordBlobError } from './record-blob';
import type { CurrentRecord } from './records';

/*
 * A subject's records as read from the store (a driver's bytes, or a JSON page's hex), and what
 * stands for records that do not decode. Pure.
 */

/**
 * The records of a stored value as a driver or a JSON page gives it: bytes, their hex (either
 * case), or null or undefined for none.
 *
 * @throws RecordBlobError for anything else, or bytes that do not decode.
 */
export function storedRecords(value: unknown): CurrentRecord[] {
  if (value === null || value === undefined) return [];
  if (Buffer.isBuffer(value)) return decodeRecords(value);
  if (typeof value === 'string') return decodeRecordsHex(value);
  throw new RecordBlobError('the records are not stored as bytes');
}

/**
 * What stands for records that do not decode: one record without a requirement, which the
 * library never writes, so no head's seal covers it. A read then refuses the subject through
 * the seal check, as for any record changed behind its back, and `verify()` reports it.
 */
export const UNREADABLE_RECORD: Readonly<CurrentRecord> = Object.freeze({
  requirement: '', decision: null, version: null, decidedAt: null, expiresAt: null, gpcOptIn: false,
  pendingVersion: null, pendingAt: null, pendingExpiresAt: null, pendingToken: null, expiryRecorded: false,
});

/** `storedRecords(value)`, or `[UNREADABLE_RECORD]` when the value is not records. */
export function recordsOrUnreadable(value: unknown): CurrentRecord[] {
  try {
    return storedRecords(value);
  } catch (error) {
    if (error instanceof RecordBlobError) return [{ ...UNREADABLE_RECORD }];
    throw error;
  }
}

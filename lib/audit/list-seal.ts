import { createHmac } from 'node:crypto';
import type { ChainHead } from '../tracker/records';
import { hmacRangeMatches } from './keys';

/*
 * A subject row's listing seal: HMAC-SHA-256 (truncated to 128 bits, as the head seal) under the
 * chain key of the row as stored, its head's position and hash, and its stored id. Audiences
 * check it over the bytes of the row's hex values as a page gives them (`Buffer.write(…, 'hex')`
 * reads either case: SQLite's `hex()` and PostgreSQL's `encode()` give the same bytes), instead of
 * rebuilding the head seal's text value by value; and because it covers the stored id, as the
 * library sealed it for the row's pseudonym, that id opens without the HMAC of its pseudonym.
 * It covers the head seal as stored too, so a row whose listing seal checks is one whose head
 * seal checks: a page is listed alike whichever seal judged it (the main thread checks head
 * seals only). A row whose listing seal is missing or fails is judged by its head seal, as
 * before this seal existed. Pure, apart from the one buffer it writes into.
 */

/** Hex digits of a listing seal. */
export const LIST_SEAL_HEX = 32;

/** What a listing seal covers, as a page gives it: hex, and integers as numbers or decimal text. */
export interface ListSealFields {
  chain: unknown;
  pseudonym: unknown;
  seq: unknown;
  hash: unknown;
  id: unknown;
  /** The head seal as stored, in hex: a row whose listing seal checks is one whose head seal does. */
  mac: unknown;
  /** The stored records (`encodeRecords`), in hex. */
  records: unknown;
  /** The stored id (`sealSubject`), in hex. */
  sealed: unknown;
}

const TAG = 'ec5-list\n';
const DECIMAL = /^(0|[1-9][0-9]{0,18})$/;
let buffer = Buffer.allocUnsafe(1024);

function room(at: number, bytes: number): void {
  if (at + bytes <= buffer.length) return;
  const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, at + bytes));
  buffer.copy(grown, 0, 0, at);
  buffer = grown;
}

/** Writes hex `value` as its bytes after a length of `lengthBytes` bytes; -1 for a value that is not whole hex. */
function hexAt(value: unknown, at: number, lengthBytes: 1 | 4): number {
  if (typeof value !== 'string' || value.length % 2 !== 0) return -1;
  const bytes = value.length / 2;
  if (lengthBytes === 1 && bytes > 0xff) return -1;
  room(at, lengthBytes + bytes);
  if (lengthBytes === 1) buffer[at] = bytes;
  else buffer.writeUInt32BE(bytes, at);
  // Stops at the first character that is no hex digit: fewer bytes written.
  return buffer.write(value, at + lengthBytes, bytes, 'hex') === bytes ? at + lengthBytes + bytes : -1;
}

/** Writes a non-negative integer in decimal, then a comma; -1 for anything else. */
function intAt(value: unknown, at: number): number {
  const text = typeof value === 'number' ? (Number.isSafeInteger(value) && value >= 0 ? String(value) : '') : typeof value === 'string' && DECIMAL.test(value) ? value : '';
  if (text === '') return -1;
  room(at, text.length + 1);
  at += buffer.write(text, at, 'latin1');
  buffer[at] = 0x2c;
  return at + 1;
}

/** The text a listing seal is the HMAC of, written into the shared buffer: its length, or -1 for fields it cannot hold. */
function sealText(f: ListSealFields): number {
  let at = buffer.write(TAG, 0, 'latin1');
  at = hexAt(f.chain, at, 1);
  if (at >= 0) at = hexAt(f.pseudonym, at, 1);
  if (at >= 0) at = intAt(f.seq, at);
  if (at >= 0) at = hexAt(f.hash, at, 1);
  if (at >= 0) at = intAt(f.id, at);
  if (at >= 0) at = hexAt(f.mac, at, 1);
  if (at >= 0) at = hexAt(f.records, at, 4);
  if (at >= 0) at = hexAt(f.sealed, at, 4);
  return at;
}

/**
 * The listing seal of a row (lowercase hex), or null for fields no row of the library holds
 * (the row is then written without one).
 */
export function listSeal(key: Buffer, fields: ListSealFields): string | null {
  const length = sealText(fields);
  if (length < 0) return null;
  return createHmac('sha256', key).update(buffer.subarray(0, length)).digest('hex').slice(0, LIST_SEAL_HEX);
}

/** Whether `expected` (hex, either case) is the listing seal of the row's fields. */
export function listSealMatches(key: Buffer, fields: ListSealFields, expected: unknown): boolean {
  if (typeof expected !== 'string' || expected.length !== LIST_SEAL_HEX) return false;
  const length = sealText(fields);
  return length >= 0 && hmacRangeMatches(key, buffer, 0, length, expected.toLowerCase());
}

/**
 * `WritePlan.listSeal` for a write that stores `sealed` (the subject's id, `sealSubject`): the
 * listing seal of the row it leaves, none for an erased or empty one.
 */
export function listSealer(key: Buffer, sealed: string): (head: ChainHead, records: Buffer | null) => string | null {
  return (head, records) => (head.erased || head.pseudonym === null || records === null
    ? null
    : listSeal(key, { chain: head.chain, pseudonym: head.pseudonym, seq: head.seq, hash: head.hash, id: head.id, mac: head.mac, records: records.toString('hex'), sealed }));
}

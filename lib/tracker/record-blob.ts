import type { Decision } from '../types';
import type { CurrentRecord } from './records';
import { ByteSource, HexSource, readInt, RecordBlobError, type Source } from './blob-source';

export { RecordBlobError } from './blob-source';

/*
 * A subject's current records as one value of a few bytes, stored in its subject row instead of
 * a row per record: a row and an index entry per record cost more than the record itself.
 * Pure, and strict both ways: a record it cannot hold exactly is refused when written, and bytes
 * that are not exactly a list of records fail to decode (the read then fails closed, as for any
 * row the seal does not cover).
 *
 * Layout: a format byte (1), then per record, in requirement order: the requirement's UTF-8
 * length (1 byte) and bytes; a flags byte; then each number the flags announce (`Writer.int`:
 * its sign and magnitude, 1 to 8 bytes), in field order; then, with `PENDING`, a byte of
 * pending flags, its numbers, and the token's byte length and bytes.
 */

const FORMAT = 1;

// Flags of a record.
const DECISION_BITS = 0b11;
const GPC = 1 << 2;
const EXPIRY_RECORDED = 1 << 3;
const VERSION = 1 << 4;
const DECIDED_AT = 1 << 5;
const EXPIRES_AT = 1 << 6;
const PENDING = 1 << 7;
// Flags of its pending part.
const PENDING_VERSION = 1;
const PENDING_AT = 1 << 1;
const PENDING_EXPIRES_AT = 1 << 2;
const PENDING_TOKEN = 1 << 3;

const DECISIONS: readonly (Decision | null)[] = [null, 'granted', 'denied'];
const LOWER_HEX = /^(?:[0-9a-f]{2})+$/;

/** Bytes being written: grows as needed. */
class Writer {
  private buffer = Buffer.allocUnsafe(64);
  length = 0;

  byte(value: number): void {
    this.room(1);
    this.buffer[this.length] = value;
    this.length += 1;
  }

  bytes(value: Buffer): void {
    this.room(value.length);
    value.copy(this.buffer, this.length);
    this.length += value.length;
  }

  /**
   * A safe integer: its sign in the lowest bit and its magnitude's lowest 6 bits in the first
   * byte, then 7 bits a byte, the top bit of each byte saying that another follows. Only
   * divisions of the magnitude: exact for every safe integer.
   */
  int(value: number, field: string): void {
    if (!Number.isSafeInteger(value)) throw new RecordBlobError(`${field} must be a safe integer to be stored (got ${String(value)})`);
    let rest = Math.abs(value);
    const low = rest % 0x40;
    rest = Math.floor(rest / 0x40);
    this.byte((value < 0 ? 1 : 0) | (low << 1) | (rest > 0 ? 0x80 : 0));
    while (rest > 0) {
      const group = rest % 0x80;
      rest = Math.floor(rest / 0x80);
      this.byte(group | (rest > 0 ? 0x80 : 0));
    }
  }

  done(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }

  private room(more: number): void {
    if (this.length + more <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + more));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

const byRequirement = (a: CurrentRecord, b: CurrentRecord): number => (a.requirement < b.requirement ? -1 : a.requirement > b.requirement ? 1 : 0);

/**
 * `records` as stored, or null for none (a subject whose records are all gone keeps its row).
 * In requirement order, whatever order they came in.
 *
 * @throws RecordBlobError for a record it cannot store exactly: a requirement of more than 255
 * UTF-8 bytes or none, two records of one requirement, a number that is not a safe integer, a
 * token that is not lowercase hex.
 */
export function encodeRecords(records: readonly CurrentRecord[]): Buffer | null {
  if (records.length === 0) return null;
  const out = new Writer();
  out.byte(FORMAT);
  const sorted = [...records].sort(byRequirement);
  for (const [i, r] of sorted.entries()) {
    if (i > 0 && sorted[i - 1]?.requirement === r.requirement) throw new RecordBlobError(`two records of "${r.requirement}"`);
    writeRecord(out, r);
  }
  return out.done();
}

function writeRecord(out: Writer, r: CurrentRecord): void {
  const name = Buffer.from(r.requirement, 'utf8');
  if (name.length === 0 || name.length > 255 || name.toString('utf8') !== r.requirement) {
    throw new RecordBlobError(`a requirement id must be 1 to 255 bytes of well-formed UTF-8 to be stored (got "${r.requirement}")`);
  }
  const decision = DECISIONS.indexOf(r.decision);
  if (decision < 0) throw new RecordBlobError(`unknown decision "${String(r.decision)}"`);
  const pending = r.pendingVersion !== null || r.pendingAt !== null || r.pendingExpiresAt !== null || r.pendingToken !== null;
  out.byte(name.length);
  out.bytes(name);
  out.byte(
    decision | (r.gpcOptIn ? GPC : 0) | (r.expiryRecorded ? EXPIRY_RECORDED : 0) | (r.version !== null ? VERSION : 0) |
      (r.decidedAt !== null ? DECIDED_AT : 0) | (r.expiresAt !== null ? EXPIRES_AT : 0) | (pending ? PENDING : 0),
  );
  if (r.version !== null) out.int(r.version, 'version');
  if (r.decidedAt !== null) out.int(r.decidedAt, 'decidedAt');
  if (r.expiresAt !== null) out.int(r.expiresAt, 'expiresAt');
  if (!pending) return;
  out.byte(
    (r.pendingVersion !== null ? PENDING_VERSION : 0) | (r.pendingAt !== null ? PENDING_AT : 0) |
      (r.pendingExpiresAt !== null ? PENDING_EXPIRES_AT : 0) | (r.pendingToken !== null ? PENDING_TOKEN : 0),
  );
  if (r.pendingVersion !== null) out.int(r.pendingVersion, 'pendingVersion');
  if (r.pendingAt !== null) out.int(r.pendingAt, 'pendingAt');
  if (r.pendingExpiresAt !== null) out.int(r.pendingExpiresAt, 'pendingExpiresAt');
  if (r.pendingToken !== null) {
    if (r.pendingToken.length > 510 || !LOWER_HEX.test(r.pendingToken)) throw new RecordBlobError('a pending token must be lowercase hex of at most 255 bytes to be stored');
    out.byte(r.pendingToken.length / 2);
    out.bytes(Buffer.from(r.pendingToken, 'hex'));
  }
}

/**
 * The records `encodeRecords` stored (none for null).
 *
 * @throws RecordBlobError when `stored` is not exactly what `encodeRecords` writes for some list
 * of records: another format, bytes left over or missing, flags it never sets, requirements out
 * of order or twice.
 */
export function decodeRecords(stored: Buffer | null): CurrentRecord[] {
  return stored === null ? [] : readRecords(new ByteSource(stored));
}

/**
 * `decodeRecords` of the bytes `hex` stands for (either case), read from the text itself.
 * @throws RecordBlobError as `decodeRecords` does, and for a text that is not hex.
 */
export function decodeRecordsHex(hex: string): CurrentRecord[] {
  return readRecords(new HexSource(hex));
}

function readRecords(input: Source): CurrentRecord[] {
  if (input.byte() !== FORMAT) throw new RecordBlobError('the records are in an unknown format');
  const records: CurrentRecord[] = [];
  while (!input.done) {
    const record = readRecord(input);
    const before = records[records.length - 1];
    if (before !== undefined && !(before.requirement < record.requirement)) throw new RecordBlobError('the records are not in requirement order');
    records.push(record);
  }
  if (records.length === 0) throw new RecordBlobError('no records after the format byte');
  return records;
}

function readRecord(input: Source): CurrentRecord {
  const length = input.byte();
  if (length === 0) throw new RecordBlobError('a record without a requirement');
  const requirement = input.name(length);
  const flags = input.byte();
  const decision = DECISIONS[flags & DECISION_BITS];
  if (decision === undefined) throw new RecordBlobError('a record with an unknown decision');
  const record: CurrentRecord = {
    requirement,
    decision,
    version: flags & VERSION ? readInt(input) : null,
    decidedAt: flags & DECIDED_AT ? readInt(input) : null,
    expiresAt: flags & EXPIRES_AT ? readInt(input) : null,
    gpcOptIn: (flags & GPC) !== 0,
    pendingVersion: null,
    pendingAt: null,
    pendingExpiresAt: null,
    pendingToken: null,
    expiryRecorded: (flags & EXPIRY_RECORDED) !== 0,
  };
  if (!(flags & PENDING)) return record;
  const pending = input.byte();
  if (pending === 0 || pending > 0b1111) throw new RecordBlobError('a record with unknown pending flags');
  if (pending & PENDING_VERSION) record.pendingVersion = readInt(input);
  if (pending & PENDING_AT) record.pendingAt = readInt(input);
  if (pending & PENDING_EXPIRES_AT) record.pendingExpiresAt = readInt(input);
  if (pending & PENDING_TOKEN) {
    const size = input.byte();
    if (size === 0) throw new RecordBlobError('an empty pending token');
    record.pendingToken = input.hex(size);
  }
  return record;
}

/**
 * When the sweep must next record an expiry among `records`: the earliest expiry of a grant it
 * has not recorded yet, or null for none. Stored beside the records so that the sweep finds
 * the subjects due through an index.
 */
export function nextLapse(records: readonly CurrentRecord[]): number | null {
  let next: number | null = null;
  for (const r of records) {
    if (r.decision !== 'granted' || r.expiryRecorded || r.expiresAt === null) continue;
    if (next === null || r.expiresAt < next) next = r.expiresAt;
  }
  return next;
}

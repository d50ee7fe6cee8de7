import type { CurrentRecord } from '../tracker/records';
import type { HashedFields } from './fields';
import type { HeadSealFields } from './head-seal';

/*
 * The texts of event hashes and head seals (`eventHashInput`, `headSealInput`) written as UTF-8
 * straight into a buffer, for the batches `verify()` hands to its hashing threads. Built as
 * strings, each text was a tree of a few dozen pieces, flattened and encoded when written:
 * nearly half of all the memory a verification allocated, and the young generation filled that
 * much sooner, copying the pages still being checked at every collection. Only the common case
 * is written here: every value a string of ASCII that JSON does not escape, a safe integer, a
 * boolean or null. Those print as `JSON.stringify` prints them, so the bytes are the very bytes
 * of the text. Anything else (an escape, a character beyond ASCII, a fraction, a value of
 * another type) returns false, and the caller encodes the text the string functions build. Pure.
 */

/** A growable byte buffer written from the front. */
export class InputBytes {
  constructor(
    public buffer: Buffer,
    public at = 0,
  ) {}

  /** Room for `n` more bytes. */
  room(n: number): void {
    if (this.at + n <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + n));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }

  /** Writes `text` as UTF-8 (any text). */
  text(text: string): void {
    this.room(text.length * 3);
    this.at += this.buffer.write(text, this.at, 'utf8');
  }

  /** Writes an ASCII text known to need nothing else (the fixed parts of a text); true, to chain with `&&`. */
  plain(text: string): boolean {
    this.room(text.length);
    const { buffer } = this;
    let at = this.at;
    for (let i = 0; i < text.length; i += 1) buffer[at++] = text.charCodeAt(i);
    this.at = at;
    return true;
  }

  /** Writes `text` as is; false (the position then anywhere) when it is not all ASCII. */
  raw(text: string): boolean {
    this.room(text.length);
    const { buffer } = this;
    let at = this.at;
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return false;
      buffer[at++] = c;
    }
    this.at = at;
    return true;
  }

  /** Writes `text` as a JSON string; false when it has anything JSON escapes or anything beyond ASCII. */
  quoted(text: string): boolean {
    this.room(text.length + 2);
    const { buffer } = this;
    let at = this.at;
    buffer[at++] = 0x22;
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7f || c === 0x22 || c === 0x5c) return false;
      buffer[at++] = c;
    }
    buffer[at++] = 0x22;
    this.at = at;
    return true;
  }

  /**
   * Writes a value as `JSON.stringify` prints it: a string `quoted` takes, a safe integer, a
   * boolean or null (and undefined as null with `undefinedAsNull`); false for anything else.
   */
  value(value: unknown, undefinedAsNull = false): boolean {
    if (typeof value === 'string') return this.quoted(value);
    if (typeof value === 'number') return Number.isSafeInteger(value) && this.integer(value);
    if (value === null || (undefinedAsNull && value === undefined)) return this.plain('null');
    if (typeof value === 'boolean') return this.plain(value ? 'true' : 'false');
    return false;
  }

  /** A safe integer in decimal, as `String` prints it (-0 as 0); true. */
  private integer(value: number): boolean {
    this.room(17);
    const { buffer } = this;
    let n = value;
    if (n < 0) {
      buffer[this.at++] = 0x2d;
      n = -n;
    }
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
    for (let i = this.at + digits - 1; i >= this.at; i -= 1) {
      buffer[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.at += digits;
    return true;
  }
}

/**
 * Writes the bytes of `eventHashInput(key, previous, f)`, `digest` being the personal digest it
 * covers (`f.personalDigest`, or the digest of no personal fields); false when a value is
 * outside the common case, the position then anywhere.
 */
export function eventInputBytes(out: InputBytes, previous: string, f: HashedFields, digest: string): boolean {
  const { context } = f;
  const withContext = context !== null && context !== undefined;
  // An event without a locale has no such member.
  const withLocale = f.locale !== undefined && f.locale !== null;
  return out.plain(withContext ? 'ec4\n' : 'ec3\n') && out.raw(previous) &&
    out.plain('\n{"action":') && out.value(f.action) && out.plain(',"at":') && out.value(f.at) &&
    out.plain(',"chain":') && out.value(f.chain) && out.plain(',"id":') && out.value(f.id) &&
    (!withLocale || (out.plain(',"locale":') && out.value(f.locale))) &&
    out.plain(',"personalDigest":') && out.value(digest) && out.plain(',"prevId":') && out.value(f.prevId) &&
    out.plain(',"requirement":') && out.value(f.requirement) && out.plain(',"seq":') && out.value(f.seq) &&
    out.plain(',"source":') && out.value(f.source) && out.plain(',"state":') && out.value(f.state) &&
    out.plain(',"version":') && out.value(f.version) && out.plain('}') &&
    (!withContext || (out.plain('\n') && typeof context === 'string' && out.quoted(context)));
}

/** One record as `recordsJson` prints it. */
function recordBytes(out: InputBytes, r: CurrentRecord): boolean {
  return out.plain('[') && out.value(r.requirement, true) && out.plain(',') && out.value(r.decision, true) &&
    out.plain(',') && out.value(r.version, true) && out.plain(',') && out.value(r.decidedAt, true) &&
    out.plain(',') && out.value(r.expiresAt, true) && out.plain(',') && out.value(r.gpcOptIn, true) &&
    out.plain(',') && out.value(r.pendingVersion, true) && out.plain(',') && out.value(r.pendingAt, true) &&
    out.plain(',') && out.value(r.pendingExpiresAt, true) && out.plain(',') && out.value(r.pendingToken, true) &&
    out.plain(',') && out.value(r.expiryRecorded, true) && out.plain(']');
}

/**
 * Writes the bytes of `headSealInput(head, records)`; false when a value is outside the common
 * case, or the records are not in requirement order, the position then anywhere.
 */
export function headInputBytes(out: InputBytes, head: HeadSealFields, records: readonly CurrentRecord[]): boolean {
  const fields = out.plain('ec4-head\n[') && out.value(head.chain, true) && out.plain(',') && out.value(head.pseudonym, true) &&
    out.plain(',') && out.value(head.erased, true) && out.plain(',') && out.value(head.seq, true) &&
    out.plain(',') && out.value(head.hash, true) && out.plain(',') && out.value(head.id, true) && out.plain(']\n[');
  if (!fields) return false;
  for (let i = 0; i < records.length; i += 1) {
    const r = records[i] as CurrentRecord;
    if (i > 0) {
      // Out of order, `recordsJson` sorts them first.
      if (!((records[i - 1] as CurrentRecord).requirement < r.requirement)) return false;
      out.plain(',');
    }
    if (!recordBytes(out, r)) return false;
  }
  return out.plain(']');
}

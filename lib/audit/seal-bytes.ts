import type { CurrentRecord } from '../tracker/records';
import { hmacRangeMatches } from './keys';

/*
 * A head seal's text written as bytes, value by value, for the values the library itself stores
 * (hex, requirement ids of printable ASCII, safe integers): the UTF-8 bytes of the string
 * `headSealInput` (head-seal.ts) builds, without building the string. A value that text would
 * write otherwise (escaped, or as a number of another form) is refused instead: the caller then
 * builds the text as `headSealInput` does. Pure, apart from the one buffer it writes into.
 */

// The value of each hex digit by its character code (either case), -1 for any other character.
const DIGIT = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d += 1) {
  DIGIT['0123456789abcdef'.charCodeAt(d)] = d;
  DIGIT['0123456789ABCDEF'.charCodeAt(d)] = d;
}
const LOWER_HEX = Buffer.from('0123456789abcdef', 'latin1');
const QUOTE = 0x22;
const COMMA = 0x2c;
const NUL = Buffer.from('null', 'latin1');
const TRUE = Buffer.from('true', 'latin1');
const FALSE = Buffer.from('false', 'latin1');
const DECISION = new Map([['granted', Buffer.from('"granted"', 'latin1')], ['denied', Buffer.from('"denied"', 'latin1')]]);
const HEAD = Buffer.from('ec4-head\n[', 'latin1');
const NOT_ERASED = Buffer.from(',false,', 'latin1');
const HEAD_END = Buffer.from('"]\n', 'latin1');
// A number's decimal digits, last first, before they are written out in order.
const DECIMAL = new Uint8Array(16);

/** A text being written as bytes: one buffer, reused from text to text and grown as needed. */
export class SealBytes {
  private buffer = Buffer.allocUnsafe(1024);
  private at = 0;

  /** The bytes written since the last `head()`. */
  get bytes(): Buffer {
    return this.buffer.subarray(0, this.at);
  }

  /** Whether the text written since the last `head()` has the HMAC under `key` that `expected` starts with (see `hmacMatches`). */
  sealedWith(key: Buffer, expected: string): boolean {
    return hmacRangeMatches(key, this.buffer, 0, this.at, expected);
  }

  /**
   * Starts a head seal's text anew with a linked (not erased) subject's head, as
   * `headSealInput` writes it: its chain, pseudonym, position, hash and id, then a line break.
   */
  head(chain: unknown, pseudonym: unknown, seq: unknown, hash: unknown, id: unknown): boolean {
    this.at = 0;
    this.raw(HEAD);
    if (!this.quotedHex(chain)) return false;
    this.mark(COMMA);
    if (!this.quotedHex(pseudonym)) return false;
    this.raw(NOT_ERASED);
    if (!this.int(seq)) return false;
    this.mark(COMMA);
    if (!this.quotedHex(hash)) return false;
    this.mark(COMMA);
    // The head's id is a string (an event id of any size).
    this.mark(QUOTE);
    if (!this.int(id)) return false;
    this.raw(HEAD_END);
    return true;
  }

  private mark(code: number): void {
    this.room(1);
    this.buffer[this.at++] = code;
  }

  /** `value` as a JSON string, in lowercase, when it is hex digits (either case); false otherwise. */
  private quotedHex(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    this.room(value.length + 2);
    const { buffer } = this;
    buffer[this.at++] = QUOTE;
    for (let i = 0; i < value.length; i += 1) {
      const code = value.charCodeAt(i);
      const digit = code < 128 ? (DIGIT[code] as number) : -1;
      if (digit < 0) return false;
      buffer[this.at++] = LOWER_HEX[digit] as number;
    }
    buffer[this.at++] = QUOTE;
    return true;
  }

  /** `value` as a JSON string when it is printable ASCII that JSON writes unescaped; false otherwise. */
  private quotedName(value: string): boolean {
    this.room(value.length + 2);
    const { buffer } = this;
    buffer[this.at++] = QUOTE;
    for (let i = 0; i < value.length; i += 1) {
      const code = value.charCodeAt(i);
      if (code < 0x20 || code > 0x7e || code === QUOTE || code === 0x5c) return false;
      buffer[this.at++] = code;
    }
    buffer[this.at++] = QUOTE;
    return true;
  }

  /** A safe integer in decimal (as `String` writes it); false for any other value. */
  private int(value: unknown): boolean {
    if (!Number.isSafeInteger(value)) return false;
    let rest = value as number;
    this.room(18);
    if (rest < 0) {
      this.buffer[this.at++] = 0x2d;
      rest = -rest;
    }
    // Up to eight digits in 32-bit arithmetic; a longer number as its high part, then eight more.
    if (rest >= 1e8) {
      const high = Math.floor(rest / 1e8);
      this.digits(high, 0);
      this.digits(rest - high * 1e8, 8);
    } else {
      this.digits(rest, 0);
    }
    return true;
  }

  /** `value` (below 10^8) in decimal, with leading zeros to `width` digits. */
  private digits(value: number, width: number): void {
    let rest = value | 0;
    let count = 0;
    do {
      const tenth = (rest / 10) | 0;
      DECIMAL[count++] = 0x30 + rest - tenth * 10;
      rest = tenth;
    } while (rest > 0);
    while (count < width) DECIMAL[count++] = 0x30;
    while (count > 0) this.buffer[this.at++] = DECIMAL[--count] as number;
  }

  /** A safe integer or null (`int`); false for any other value. */
  private intOrNull(value: number | null): boolean {
    if (value !== null) return this.int(value);
    this.raw(NUL);
    return true;
  }

  /**
   * Records as `recordsJson` writes them (head-seal.ts), in the order given, which must be
   * strictly ascending by requirement (as stored records are); false for a value it would write
   * otherwise.
   */
  records(records: readonly CurrentRecord[]): boolean {
    this.mark(0x5b);
    for (let i = 0; i < records.length; i += 1) {
      const r = records[i] as CurrentRecord;
      if (i > 0) {
        this.mark(COMMA);
        if (!((records[i - 1] as CurrentRecord).requirement < r.requirement)) return false;
      }
      this.mark(0x5b);
      if (!this.quotedName(r.requirement)) return false;
      this.mark(COMMA);
      // A decision of another value (a custom tracker's) is refused, as the text would print it.
      const decision = r.decision === null ? NUL : DECISION.get(r.decision);
      if (decision === undefined) return false;
      this.raw(decision);
      if (!this.threeInts(r.version, r.decidedAt, r.expiresAt)) return false;
      if (typeof r.gpcOptIn !== 'boolean' || typeof r.expiryRecorded !== 'boolean') return false;
      this.raw(r.gpcOptIn ? TRUE : FALSE);
      if (!this.threeInts(r.pendingVersion, r.pendingAt, r.pendingExpiresAt)) return false;
      if (r.pendingToken === null) this.raw(NUL);
      else if (!this.quotedHex(r.pendingToken) || r.pendingToken !== r.pendingToken.toLowerCase()) return false;
      this.mark(COMMA);
      this.raw(r.expiryRecorded ? TRUE : FALSE);
      this.mark(0x5d);
    }
    this.mark(0x5d);
    return true;
  }

  /** Three integers or nulls, each after a comma, then a comma. */
  private threeInts(a: number | null, b: number | null, c: number | null): boolean {
    this.mark(COMMA);
    if (!this.intOrNull(a)) return false;
    this.mark(COMMA);
    if (!this.intOrNull(b)) return false;
    this.mark(COMMA);
    if (!this.intOrNull(c)) return false;
    this.mark(COMMA);
    return true;
  }

  private raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buffer.set(bytes, this.at);
    this.at += bytes.length;
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }
}

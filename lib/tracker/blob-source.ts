/*
 * Reading the bytes of lib/tracker/record-blob.ts: from a buffer, or from their hex as a JSON
 * page of the store gives them, without making a buffer of it first. Pure, apart from a bounded
 * cache of the requirement names read from hex.
 */

/** A value that is not a list of records as `encodeRecords` writes them. */
export class RecordBlobError extends Error {
  override readonly name = 'RecordBlobError';
}

/** Where records are read from, a byte at a time: every read past the end fails. */
export interface Source {
  readonly done: boolean;
  byte(): number;
  /** A requirement's name of `length` UTF-8 bytes. */
  name(length: number): string;
  /** `size` bytes, as lowercase hex. */
  hex(size: number): string;
}

/** The records' bytes. */
export class ByteSource implements Source {
  private at = 0;
  constructor(private readonly buffer: Buffer) {}

  get done(): boolean {
    return this.at >= this.buffer.length;
  }

  byte(): number {
    const value = this.buffer[this.at];
    if (value === undefined) throw new RecordBlobError('the records end too early');
    this.at += 1;
    return value;
  }

  name(length: number): string {
    return nameOf(this.bytes(length));
  }

  hex(size: number): string {
    return this.bytes(size).toString('hex');
  }

  private bytes(length: number): Buffer {
    if (this.at + length > this.buffer.length) throw new RecordBlobError('the records end too early');
    const value = this.buffer.subarray(this.at, this.at + length);
    this.at += length;
    return value;
  }
}

// The value of each hex digit by its character code (either case), -1 for any other character.
const DIGITS = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d += 1) {
  DIGITS['0123456789abcdef'.charCodeAt(d)] = d;
  DIGITS['0123456789ABCDEF'.charCodeAt(d)] = d;
}

// Requirement names by the hex they are read from: a store holds few, and decoding each again
// cost more than the rest of a record. Emptied when full: memory stays bounded whatever is stored.
const NAMES = new Map<string, string>();
const MAX_NAMES = 1024;

/** @throws RecordBlobError unless every character of `digits` is a hex digit. */
function checkDigits(digits: string): void {
  for (let i = 0; i < digits.length; i += 1) {
    if ((DIGITS[digits.charCodeAt(i)] ?? -1) < 0) throw new RecordBlobError('the records are not stored as bytes');
  }
}

/**
 * The records' bytes as hex, in either case (what a JSON page of the store gives), read without
 * decoding them into a buffer first.
 */
export class HexSource implements Source {
  private at = 0;
  constructor(private readonly text: string) {
    if (text.length % 2 !== 0) throw new RecordBlobError('the records are not stored as bytes');
  }

  get done(): boolean {
    return this.at >= this.text.length;
  }

  byte(): number {
    if (this.at >= this.text.length) throw new RecordBlobError('the records end too early');
    const high = DIGITS[this.text.charCodeAt(this.at)] ?? -1;
    const low = DIGITS[this.text.charCodeAt(this.at + 1)] ?? -1;
    if (high < 0 || low < 0) throw new RecordBlobError('the records are not stored as bytes');
    this.at += 2;
    return (high << 4) | low;
  }

  name(length: number): string {
    const digits = this.digits(length);
    let name = NAMES.get(digits);
    if (name === undefined) {
      // Every character a digit: `Buffer.from(text, 'hex')` reads only a character's low byte.
      checkDigits(digits);
      name = nameOf(Buffer.from(digits, 'hex'));
      if (NAMES.size >= MAX_NAMES) NAMES.clear();
      NAMES.set(digits, name);
    }
    return name;
  }

  hex(size: number): string {
    const digits = this.digits(size);
    checkDigits(digits);
    return digits.toLowerCase();
  }

  private digits(bytes: number): string {
    const end = this.at + 2 * bytes;
    if (end > this.text.length) throw new RecordBlobError('the records end too early');
    const digits = this.text.slice(this.at, end);
    this.at = end;
    return digits;
  }
}

/**
 * A safe integer as `Writer.int` (record-blob.ts) writes it.
 * @throws RecordBlobError for any other form of it (longer than it needs, or past 2^53 - 1).
 */
export function readInt(input: Source): number {
  const first = input.byte();
  let magnitude = (first >> 1) & 0x3f;
  let scale = 0x40;
  let more = first >= 0x80;
  // Six bits, then seven a byte: eight bytes hold every safe integer (53 bits).
  for (let i = 1; more; i += 1) {
    if (i === 8) throw new RecordBlobError('a number of the records is too long');
    const b = input.byte();
    // One form per number: no trailing zero group.
    if (b === 0) throw new RecordBlobError('a number of the records is not in its shortest form');
    magnitude += (b & 0x7f) * scale;
    scale *= 0x80;
    more = b >= 0x80;
  }
  if (magnitude > Number.MAX_SAFE_INTEGER) throw new RecordBlobError('a number of the records is too large');
  if (first & 1) {
    if (magnitude === 0) throw new RecordBlobError('a number of the records is not in its shortest form');
    return -magnitude;
  }
  return magnitude;
}

/** A requirement's name from its UTF-8 bytes: ASCII (every id the registry takes) read as it is. */
function nameOf(name: Buffer): string {
  let ascii = true;
  for (let i = 0; i < name.length; i += 1) if ((name[i] as number) >= 0x80) ascii = false;
  if (ascii) return name.toString('latin1');
  const text = name.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(name)) throw new RecordBlobError('a requirement that is not UTF-8');
  return text;
}


import { createCipheriv } from 'node:crypto';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, SEAL_OVERHEAD } from './aead';
import { hmacHex, hmacRangeMatches } from './keys';
import { firstCounter, SIV_NONCE_BYTES } from './subject-seal';

/*
 * The subject ids of a whole page of `sealSubject` values, sealed or decrypted in one AES call.
 * A value is its id XOR the AES-CTR keystream that counts from its pseudonym's first 96 bits;
 * one ECB pass over every counter block of the page yields every value's keystream, where Node
 * sets up a cipher per value (about 5 µs each, more than all the rest of a listing).
 *
 * Decrypting authenticates nothing: the caller trusts a value only when the keyed pseudonym of
 * what it decrypts to is the one its chain's sealed head names, which is what makes it a SIV.
 */

const BLOCK = 16;

/** Values laid end to end in one buffer: where each starts (-1 for one left out) and its length. */
export interface Page {
  bytes: Buffer;
  starts: number[];
  lengths: number[];
}

// The value of each ASCII hex digit (either case, as `Buffer.from(text, 'hex')` reads them), -1 for anything else.
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i += 1) {
  DIGIT['0123456789abcdef'.charCodeAt(i)] = i;
  DIGIT['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/**
 * Writes `bytes` bytes from the hex digits of `text` starting at `from` into `into[at]`; false
 * at a character that is no hex digit. Read in place: a Buffer (and a copy of the text) per
 * value cost more than the AES of the whole page.
 */
function hexInto(text: string, from: number, bytes: number, into: Uint8Array, at: number): boolean {
  for (let i = 0; i < bytes; i += 1) {
    const hi = text.charCodeAt(from + 2 * i);
    const lo = text.charCodeAt(from + 2 * i + 1);
    const value = hi < 128 && lo < 128 ? ((DIGIT[hi] as number) << 4) | (DIGIT[lo] as number) : -1;
    if (value < 0) return false;
    into[at + i] = value;
  }
  return true;
}

/**
 * XORs each value of `page` in place with the keystream of the nonce at its index (`nonceBytes`
 * bytes of `nonces` each), then 32 bits counting from `from`.
 */
function applyKeystreams(key: Buffer, page: Page, nonces: Uint8Array, nonceBytes = SIV_NONCE_BYTES, from = 0): void {
  let blocks = 0;
  for (let i = 0; i < page.starts.length; i += 1) if ((page.starts[i] as number) >= 0) blocks += Math.ceil((page.lengths[i] as number) / BLOCK);
  const stream = Buffer.allocUnsafe(blocks * BLOCK);
  let at = 0;
  for (let i = 0; i < page.starts.length; i += 1) {
    if ((page.starts[i] as number) < 0) continue;
    const nonce = i * nonceBytes;
    for (let n = 0; n * BLOCK < (page.lengths[i] as number); n += 1, at += BLOCK) {
      for (let j = 0; j < nonceBytes; j += 1) stream[at + j] = nonces[nonce + j] as number;
      // The block count, 32 bits big-endian (both nonces are 96 bits).
      const count = from + n;
      stream[at + nonceBytes] = count >>> 24;
      stream[at + nonceBytes + 1] = (count >>> 16) & 0xff;
      stream[at + nonceBytes + 2] = (count >>> 8) & 0xff;
      stream[at + nonceBytes + 3] = count & 0xff;
    }
  }
  const cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const keystream = cipher.update(stream);
  cipher.final();
  let used = 0;
  const { bytes } = page;
  for (let i = 0; i < page.starts.length; i += 1) {
    const start = page.starts[i] as number;
    if (start < 0) continue;
    const length = page.lengths[i] as number;
    for (let j = 0; j < length; j += 1) bytes[start + j] = (bytes[start + j] as number) ^ (keystream[used + j] as number);
    used += Math.ceil(length / BLOCK) * BLOCK;
  }
}

/**
 * Every id sealed for the pseudonym at the same index, as `sealSubject` seals it (lowercase
 * hex), in one AES call.
 * @throws Error for a pseudonym that is not hex of at least 96 bits (the library's never is).
 */
export function sealSubjects(key: Buffer, ids: readonly string[], pseudonyms: readonly string[]): string[] {
  const nonces = Buffer.allocUnsafe(ids.length * SIV_NONCE_BYTES);
  for (let i = 0; i < ids.length; i += 1) {
    const counter = firstCounter(pseudonyms[i] ?? null);
    if (counter === null) throw new Error('sealSubjects: every pseudonym must be hex of at least 96 bits');
    counter.copy(nonces, i * SIV_NONCE_BYTES, 0, SIV_NONCE_BYTES);
  }
  const lengths = ids.map((id) => Buffer.byteLength(id, 'utf8'));
  const bytes = Buffer.allocUnsafe(lengths.reduce((a, b) => a + b, 0));
  const starts: number[] = [];
  let at = 0;
  for (let i = 0; i < ids.length; i += 1) {
    starts.push(at);
    at += bytes.write(ids[i] as string, at, 'utf8');
  }
  const page = { bytes, starts, lengths };
  applyKeystreams(key, page, nonces);
  return ids.map((_, i) => bytes.toString('hex', starts[i], (starts[i] as number) + (lengths[i] as number)));
}

/**
 * What each sealed value (lowercase hex, as `sealSubject` returns it) decrypts to under the
 * counter of the pseudonym at the same index, unauthenticated; null for an empty value, one not
 * hex, or a pseudonym with no counter.
 */
export function decryptSubjects(key: Buffer, sealed: readonly string[], pseudonyms: ReadonlyArray<string | null>): Array<string | null> {
  const page = decryptedPage(key, sealed, pseudonyms);
  return page.starts.map((start, i) => (start < 0 ? null : page.bytes.toString('utf8', start, start + (page.lengths[i] as number))));
}

/** The page of `decryptSubjects`, its values decrypted in place (not yet decoded). */
function decryptedPage(key: Buffer, sealed: readonly string[], pseudonyms: ReadonlyArray<string | null>): Page {
  const lengths = sealed.map((value) => value.length >>> 1);
  const nonces = Buffer.allocUnsafe(sealed.length * SIV_NONCE_BYTES);
  const starts: number[] = [];
  let total = 0;
  for (let i = 0; i < sealed.length; i += 1) {
    const value = sealed[i] as string;
    const pseudonym = pseudonyms[i] ?? null;
    // The counter starts from the pseudonym's first 96 bits (`firstCounter`).
    const usable = value.length >= 2 && value.length % 2 === 0 && pseudonym !== null && pseudonym.length >= SIV_NONCE_BYTES * 2 &&
      hexInto(pseudonym, 0, SIV_NONCE_BYTES, nonces, i * SIV_NONCE_BYTES);
    starts.push(usable ? total : -1);
    if (usable) total += lengths[i] as number;
  }
  const bytes = Buffer.allocUnsafe(total);
  for (let i = 0; i < sealed.length; i += 1) {
    const start = starts[i] as number;
    // A value that is not all hex is left out.
    if (start >= 0 && !hexInto(sealed[i] as string, 0, lengths[i] as number, bytes, start)) starts[i] = -1;
  }
  const page = { bytes, starts, lengths };
  applyKeystreams(key, page, nonces);
  return page;
}

/** Whether `length` bytes of `bytes` from `start` are all ASCII (the same text in UTF-8 and Latin-1). */
function isAscii(bytes: Buffer, start: number, length: number): boolean {
  for (let j = start; j < start + length; j += 1) if ((bytes[j] as number) >= 0x80) return false;
  return true;
}

/**
 * The subject id each `sealSubject` value holds when it opens for the pseudonym at the same
 * index: what it decrypts to (as `decryptSubjects`) has that keyed pseudonym (HMAC-SHA-256 under
 * `pseudonymKey`, as `pseudonymOf`), which only the holder of the secret can arrange; null for
 * any other value. An ASCII id is hashed from the decrypted bytes, which are its UTF-8 bytes,
 * and decoded only once it opens.
 */
export function openSubjects(key: Buffer, pseudonymKey: Buffer, sealed: readonly string[], pseudonyms: readonly string[]): Array<string | null> {
  const { bytes, starts, lengths } = decryptedPage(key, sealed, pseudonyms);
  const ids: Array<string | null> = [];
  for (let i = 0; i < starts.length; i += 1) {
    const start = starts[i] as number;
    const length = lengths[i] as number;
    const pseudonym = pseudonyms[i] as string;
    let id: string | null = null;
    if (start < 0) id = null;
    else if (isAscii(bytes, start, length)) {
      // The whole pseudonym, never a prefix of it.
      if (pseudonym.length === 64 && hmacRangeMatches(pseudonymKey, bytes, start, start + length, pseudonym)) id = bytes.toString('latin1', start, start + length);
    } else {
      const text = bytes.toString('utf8', start, start + length);
      if (hmacHex(pseudonymKey, text) === pseudonym) id = text;
    }
    ids.push(id);
  }
  return ids;
}

/**
 * What each value an earlier release sealed (AES-256-GCM: nonce, ciphertext, tag; lowercase hex)
 * decrypts to, in one AES call, without checking its tag or associated data; null for a value too
 * short or not hex. A GCM ciphertext is its plaintext XOR the AES-CTR keystream of its nonce,
 * counting from 2 (counter 1 masks the tag; NIST SP 800-38D, 7.1). As for the SIV, the caller
 * trusts a value only when the keyed pseudonym of what it decrypts to is its chain's.
 */
export function decryptEarlierSubjects(key: Buffer, sealed: readonly string[]): Array<string | null> {
  const lengths = sealed.map((value) => Math.max((value.length >>> 1) - SEAL_OVERHEAD, 0));
  const bytes = Buffer.allocUnsafe(lengths.reduce((a, b) => a + b, 0));
  const nonces = Buffer.allocUnsafe(sealed.length * AEAD_NONCE_BYTES);
  const starts: number[] = [];
  let at = 0;
  for (let i = 0; i < sealed.length; i += 1) {
    const value = sealed[i] as string;
    const length = lengths[i] as number;
    const raw = length > 0 && value.length === (length + SEAL_OVERHEAD) * 2 ? Buffer.from(value, 'hex') : null;
    const usable = raw !== null && raw.length === length + SEAL_OVERHEAD;
    if (usable) raw.copy(nonces, i * AEAD_NONCE_BYTES, 0, AEAD_NONCE_BYTES);
    starts.push(usable ? at : -1);
    if (usable) raw.copy(bytes, at, AEAD_NONCE_BYTES, raw.length - AEAD_TAG_BYTES);
    at += length;
  }
  applyKeystreams(key, { bytes, starts, lengths }, nonces, AEAD_NONCE_BYTES, 2);
  return starts.map((start, i) => (start < 0 ? null : bytes.toString('utf8', start, start + (lengths[i] as number))));
}

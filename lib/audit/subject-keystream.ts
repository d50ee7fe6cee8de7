import { createCipheriv } from 'node:crypto';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, SEAL_OVERHEAD } from './aead';
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
interface Page {
  bytes: Buffer;
  starts: number[];
  lengths: number[];
}

/**
 * XORs each value of `page` in place with the keystream of the counter at its index: the
 * counter's first `nonceBytes` bytes, then 32 bits counting from `from`.
 */
function applyKeystreams(key: Buffer, page: Page, counters: ReadonlyArray<Buffer | null>, nonceBytes = SIV_NONCE_BYTES, from = 0): void {
  let blocks = 0;
  for (let i = 0; i < page.starts.length; i += 1) if ((page.starts[i] as number) >= 0) blocks += Math.ceil((page.lengths[i] as number) / BLOCK);
  const stream = Buffer.alloc(blocks * BLOCK);
  let block = 0;
  for (let i = 0; i < page.starts.length; i += 1) {
    if ((page.starts[i] as number) < 0) continue;
    const counter = counters[i] as Buffer;
    for (let n = 0; n * BLOCK < (page.lengths[i] as number); n += 1, block += 1) {
      counter.copy(stream, block * BLOCK, 0, nonceBytes);
      stream.writeUInt32BE(from + n, block * BLOCK + nonceBytes);
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
  const counters = pseudonyms.map((p) => firstCounter(p));
  if (counters.some((c) => c === null)) throw new Error('sealSubjects: every pseudonym must be hex of at least 96 bits');
  const lengths = ids.map((id) => Buffer.byteLength(id, 'utf8'));
  const bytes = Buffer.allocUnsafe(lengths.reduce((a, b) => a + b, 0));
  const starts: number[] = [];
  let at = 0;
  for (let i = 0; i < ids.length; i += 1) {
    starts.push(at);
    at += bytes.write(ids[i] as string, at, 'utf8');
  }
  const page = { bytes, starts, lengths };
  applyKeystreams(key, page, counters);
  return ids.map((_, i) => bytes.toString('hex', starts[i], (starts[i] as number) + (lengths[i] as number)));
}

/**
 * What each sealed value (lowercase hex, as `sealSubject` returns it) decrypts to under the
 * counter of the pseudonym at the same index, unauthenticated; null for an empty value, one not
 * hex, or a pseudonym with no counter.
 */
export function decryptSubjects(key: Buffer, sealed: readonly string[], pseudonyms: ReadonlyArray<string | null>): Array<string | null> {
  const counters = sealed.map((value, i) => (value.length >= 2 ? firstCounter(pseudonyms[i] ?? null) : null));
  const lengths = sealed.map((value) => value.length >>> 1);
  let total = 0;
  for (let i = 0; i < sealed.length; i += 1) if (counters[i] !== null) total += lengths[i] as number;
  const bytes = Buffer.allocUnsafe(total);
  const starts: number[] = [];
  let at = 0;
  for (let i = 0; i < sealed.length; i += 1) {
    const value = sealed[i] as string;
    const length = lengths[i] as number;
    if (counters[i] === null) {
      starts.push(-1);
      continue;
    }
    // A value that is not all hex writes fewer bytes.
    starts.push(length * 2 === value.length && bytes.write(value, at, 'hex') === length ? at : -1);
    at += length;
  }
  applyKeystreams(key, { bytes, starts, lengths }, counters);
  return starts.map((start, i) => (start < 0 ? null : bytes.toString('utf8', start, start + (lengths[i] as number))));
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
  const counters: Array<Buffer | null> = [];
  const starts: number[] = [];
  let at = 0;
  for (let i = 0; i < sealed.length; i += 1) {
    const value = sealed[i] as string;
    const length = lengths[i] as number;
    const raw = length > 0 && value.length === (length + SEAL_OVERHEAD) * 2 ? Buffer.from(value, 'hex') : null;
    const usable = raw !== null && raw.length === length + SEAL_OVERHEAD;
    counters.push(usable ? raw.subarray(0, AEAD_NONCE_BYTES) : null);
    starts.push(usable ? at : -1);
    if (usable) raw.copy(bytes, at, AEAD_NONCE_BYTES, raw.length - AEAD_TAG_BYTES);
    at += length;
  }
  applyKeystreams(key, { bytes, starts, lengths }, counters, AEAD_NONCE_BYTES, 2);
  return starts.map((start, i) => (start < 0 ? null : bytes.toString('utf8', start, start + (lengths[i] as number))));
}

import { createCipheriv } from 'node:crypto';
import { firstCounter, SIV_NONCE_BYTES } from './subject-seal';

/*
 * The subject ids of a whole page of `sealSubject` values decrypted in one AES call. A value is
 * its id XOR the AES-CTR keystream that counts from its pseudonym's first 96 bits; one ECB pass
 * over every counter block of the page yields every value's keystream, where Node sets up a
 * cipher per value: that setup cost more than all the rest of a listing.
 *
 * Nothing here authenticates: the caller trusts a value only when the keyed pseudonym of what it
 * decrypts to is the one its chain's sealed head names, which is what makes it a SIV.
 */

const BLOCK = 16;

/**
 * What each sealed value (lowercase hex, as `sealSubject` returns it) decrypts to under the
 * counter of the pseudonym at the same index, unauthenticated; null for an empty value, one not
 * hex, or a pseudonym with no counter.
 */
export function decryptSubjects(key: Buffer, sealed: readonly string[], pseudonyms: ReadonlyArray<string | null>): Array<string | null> {
  const out: Array<string | null> = new Array<string | null>(sealed.length).fill(null);
  const counters: Array<Buffer | null> = [];
  let bytes = 0;
  let blocks = 0;
  for (let i = 0; i < sealed.length; i += 1) {
    const length = (sealed[i] as string).length >>> 1;
    const counter = length > 0 ? firstCounter(pseudonyms[i] ?? null) : null;
    counters.push(counter);
    if (counter === null) continue;
    bytes += length;
    blocks += Math.ceil(length / BLOCK);
  }
  const page = Buffer.allocUnsafe(bytes);
  const stream = Buffer.alloc(blocks * BLOCK);
  // Where each value's bytes start in `page`; -1 for one that keeps its null.
  const starts: number[] = [];
  let at = 0;
  let block = 0;
  for (let i = 0; i < sealed.length; i += 1) {
    const counter = counters[i] as Buffer | null;
    const value = sealed[i] as string;
    const length = value.length >>> 1;
    if (counter === null) {
      starts.push(-1);
      continue;
    }
    // A value that is not all hex writes fewer bytes.
    const usable = length * 2 === value.length && page.write(value, at, 'hex') === length;
    starts.push(usable ? at : -1);
    for (let n = 0; n * BLOCK < length; n += 1) {
      counter.copy(stream, (block + n) * BLOCK, 0, SIV_NONCE_BYTES);
      stream.writeUInt32BE(n, (block + n) * BLOCK + SIV_NONCE_BYTES);
    }
    block += Math.ceil(length / BLOCK);
    at += length;
  }
  const cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const keystream = cipher.update(stream);
  cipher.final();
  let used = 0;
  for (let i = 0; i < sealed.length; i += 1) {
    if (counters[i] === null) continue;
    const length = (sealed[i] as string).length >>> 1;
    const start = starts[i] as number;
    if (start >= 0) {
      for (let j = 0; j < length; j += 1) page[start + j] = (page[start + j] as number) ^ (keystream[used + j] as number);
      out[i] = page.toString('utf8', start, start + length);
    }
    used += Math.ceil(length / BLOCK) * BLOCK;
  }
  return out;
}

import { createCipheriv } from 'node:crypto';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, SEAL_OVERHEAD } from './aead';

/*
 * The subject ids of a whole page of `sealSubject` values decrypted in one AES call. An
 * AES-GCM ciphertext is its plaintext XOR the AES-CTR keystream of its nonce, counting from 2
 * (counter 1 masks the tag; NIST SP 800-38D, 7.1). One ECB pass over every counter block of
 * the page yields every value's keystream, where Node sets up a cipher per value: that setup
 * cost more than all the rest of a listing.
 *
 * Nothing here checks the tag. The caller trusts a value only when the keyed pseudonym of what
 * it decrypts to is the one its chain's sealed head names, which no one without the secret
 * can bring about; any other value goes through `openSubject`.
 */

const BLOCK = 16;

/**
 * What each sealed value (lowercase hex, as `sealSubject` returns it) decrypts to, without
 * checking its tag or associated data; null for a value too short or not hex.
 */
export function decryptSubjects(key: Buffer, sealed: readonly string[]): Array<string | null> {
  const out: Array<string | null> = new Array<string | null>(sealed.length).fill(null);
  let bytes = 0;
  let blocks = 0;
  for (const value of sealed) {
    const length = value.length >>> 1;
    bytes += length;
    if (length > SEAL_OVERHEAD) blocks += Math.ceil((length - SEAL_OVERHEAD) / BLOCK);
  }
  const page = Buffer.allocUnsafe(bytes);
  const counters = Buffer.alloc(blocks * BLOCK);
  // Where each value's bytes start in `page`; -1 for one that keeps its null.
  const starts: number[] = [];
  let at = 0;
  let block = 0;
  for (const value of sealed) {
    const length = value.length >>> 1;
    // A value that is not all hex writes fewer bytes.
    const usable = length > SEAL_OVERHEAD && length * 2 === value.length && page.write(value, at, 'hex') === length;
    starts.push(usable ? at : -1);
    if (usable) {
      for (let counter = 2, left = length - SEAL_OVERHEAD; left > 0; counter += 1, left -= BLOCK) {
        page.copy(counters, block * BLOCK, at, at + AEAD_NONCE_BYTES);
        counters.writeUInt32BE(counter, block * BLOCK + AEAD_NONCE_BYTES);
        block += 1;
      }
    }
    at += length;
  }
  const cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const stream = cipher.update(counters);
  cipher.final();
  let used = 0;
  for (let i = 0; i < sealed.length; i += 1) {
    const start = starts[i] as number;
    if (start < 0) continue;
    const length = (sealed[i] as string).length >>> 1;
    const from = start + AEAD_NONCE_BYTES;
    const to = start + length - AEAD_TAG_BYTES;
    for (let j = from; j < to; j += 1) page[j] = (page[j] as number) ^ (stream[used + j - from] as number);
    used += Math.ceil((to - from) / BLOCK) * BLOCK;
    out[i] = page.toString('utf8', from, to);
  }
  return out;
}

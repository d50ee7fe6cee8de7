import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * Maps the tracker's event ids to the ids callers see, and back. Stored ids are integers in
 * insertion order, which would tell anyone holding two of them how many events were recorded
 * in between (by every subject); public ids are the same integer encrypted under a key derived
 * from `secret`, so they are unrelated to one another and mean nothing without the key.
 */
export interface EventIdCodec {
  /**
   * The public id of a stored event id.
   * @throws Error when `id` is not a stored id (a positive decimal integer below 2^63): a
   *   tracker that assigns anything else breaks its contract.
   */
  encode(id: string): string;
  /** The stored id behind a public id; null for a string that is not one this key made. */
  decode(publicId: string): string | null;
}

/** Every public id starts with this letter (it also keeps spreadsheets from reading a formula). */
const PREFIX = 'e';
const BLOCK = 16;
/** The high half of the block: a decrypted block without it did not come from `encode`. */
const TAG_BYTES = 8;
const STORED_ID = /^[1-9][0-9]{0,18}$/;
const PUBLIC_ID = /^e[A-Za-z0-9_-]{22}$/;
const MAX_ID = 2n ** 63n - 1n;

/** Whether `id` has the form of a stored event id (every SQL database's bigint holds it). */
export function isStoredEventId(id: string): boolean {
  return STORED_ID.test(id) && BigInt(id) <= MAX_ID;
}

/**
 * The codec of one key: AES-256 on a single block (eight zero bytes, then the id as a 64-bit
 * big-endian integer), a pseudorandom permutation, written as `e` and 22 base64url characters.
 * Decoding checks the zero bytes, so a guessed or altered id is refused, never read as another
 * event's. One cipher per direction serves every call: ECB without padding encrypts each block
 * on its own, so the objects carry no state from one id to the next.
 */
export function eventIdCodec(key: Buffer): EventIdCodec {
  const cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const decipher = createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const block = Buffer.alloc(BLOCK);
  return {
    encode(id) {
      if (!isStoredEventId(id)) throw new Error(`express-consent: "${id}" is not a stored event id (a positive integer below 2^63)`);
      block.writeBigUInt64BE(BigInt(id), TAG_BYTES);
      return PREFIX + cipher.update(block).toString('base64url');
    },
    decode(publicId) {
      if (typeof publicId !== 'string' || !PUBLIC_ID.test(publicId)) return null;
      const sealed = Buffer.from(publicId.slice(PREFIX.length), 'base64url');
      // 22 characters hold 132 bits for 128: the last carries 4 spare bits: only the spelling `encode` gives is accepted.
      if (sealed.toString('base64url') !== publicId.slice(PREFIX.length)) return null;
      const plain = decipher.update(sealed);
      for (let i = 0; i < TAG_BYTES; i += 1) if (plain[i] !== 0) return null;
      const id = plain.readBigUInt64BE(TAG_BYTES);
      return id >= 1n && id <= MAX_ID ? id.toString() : null;
    },
  };
}

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Bytes of the nonce that opens every value `seal` returns (AES-GCM's 96-bit IV). */
export const AEAD_NONCE_BYTES = 12;
/** Bytes of the authentication tag that ends every value `seal` returns. */
export const AEAD_TAG_BYTES = 16;

/** Bytes `seal` adds to its plaintext's UTF-8 bytes: the nonce and the authentication tag. */
export const SEAL_OVERHEAD = AEAD_NONCE_BYTES + AEAD_TAG_BYTES;

/**
 * AES-256-GCM: `nonce ‖ ciphertext ‖ tag`. `aad` binds the ciphertext to its context, so a
 * sealed value cannot be moved to another place and still open.
 */
export function seal(key: Buffer, plaintext: string, aad: Buffer = Buffer.alloc(0), nonce: Buffer = randomBytes(AEAD_NONCE_BYTES)): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  // In this order: the tag exists once the cipher is final.
  return Buffer.concat([nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
}

/** Opens what `seal` produced; null when it was altered, truncated or sealed with another key. */
export function unseal(key: Buffer, sealed: Buffer, aad: Buffer = Buffer.alloc(0)): string | null {
  if (sealed.length < SEAL_OVERHEAD) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, AEAD_NONCE_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - AEAD_TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(AEAD_NONCE_BYTES, sealed.length - AEAD_TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

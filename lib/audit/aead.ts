import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const NONCE = 12;
const TAG = 16;

/** Bytes `seal` adds to its plaintext's UTF-8 bytes: the nonce and the authentication tag. */
export const SEAL_OVERHEAD = NONCE + TAG;

/**
 * AES-256-GCM: `nonce ‖ ciphertext ‖ tag`. `aad` binds the ciphertext to its context, so a
 * sealed value cannot be moved to another place and still open.
 */
export function seal(key: Buffer, plaintext: string, aad: Buffer = Buffer.alloc(0), nonce: Buffer = randomBytes(NONCE)): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  // In this order: the tag exists once the cipher is final.
  return Buffer.concat([nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
}

/** Opens what `seal` produced; null when it was altered, truncated or sealed with another key. */
export function unseal(key: Buffer, sealed: Buffer, aad: Buffer = Buffer.alloc(0)): string | null {
  if (sealed.length < NONCE + TAG) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    return Buffer.concat([decipher.update(sealed.subarray(NONCE, sealed.length - TAG)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

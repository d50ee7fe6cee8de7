import { createCipheriv } from 'node:crypto';
import { unseal } from './aead';

/*
 * The subject id stored with its chain, for audiences, sealed as SIV (deterministic
 * authenticated encryption, Rogaway and Shrimpton): the synthetic IV is the subject's pseudonym,
 * the keyed HMAC of its id that the row holds anyway, and the id is encrypted with AES-256-CTR
 * under a key of its own, counting from the pseudonym's first 96 bits. Nothing else is stored:
 * the value is exactly as long as the id. A value opens only for the pseudonym it was sealed
 * for (what it decrypts to must have that pseudonym), so a value copied onto another subject's
 * row does not open there, and what opens is always the id of the row's own pseudonym. One id
 * always seals to the same value, which tells nothing the pseudonym does not. Erasure deletes it
 * with the pseudonym.
 *
 * Earlier releases sealed the id with AES-256-GCM (a random nonce and a tag, 28 bytes more, the
 * chain as associated data). Those values still open; the subject's next write stores the SIV.
 */

/** Bytes of the pseudonym a value's counter starts from; the last 32 bits of the block count. */
export const SIV_NONCE_BYTES = 12;

/** The first AES-CTR counter block for a pseudonym (hex), or null for one too short or not hex. */
export function firstCounter(pseudonym: string | null): Buffer | null {
  if (pseudonym === null || pseudonym.length < SIV_NONCE_BYTES * 2) return null;
  const block = Buffer.alloc(16);
  return block.write(pseudonym.slice(0, SIV_NONCE_BYTES * 2), 0, 'hex') === SIV_NONCE_BYTES ? block : null;
}

/**
 * The subject id sealed for its pseudonym, as lowercase hex (stored as bytes). Pure.
 * @throws Error for a pseudonym that is not hex of at least 96 bits (the library's never is).
 */
export function sealSubject(key: Buffer, subjectId: string, pseudonym: string): string {
  const counter = firstCounter(pseudonym);
  if (counter === null) throw new Error('sealSubject: the pseudonym must be hex of at least 96 bits');
  const cipher = createCipheriv('aes-256-ctr', key, counter);
  return Buffer.concat([cipher.update(subjectId, 'utf8'), cipher.final()]).toString('hex');
}

/**
 * What a value sealed by an earlier release (AES-256-GCM, the chain as associated data) holds;
 * null when it does not open for `chain`. It is authenticated, not yet checked against the
 * chain's pseudonym.
 */
export function openEarlierSubject(key: Buffer, sealed: string, chain: string): string | null {
  return unseal(key, Buffer.from(sealed, 'hex'), Buffer.from(chain, 'utf8'));
}

import { randomBytes } from 'node:crypto';
import { AEAD_NONCE_BYTES, seal, unseal } from './aead';

/*
 * The subject id stored with its chain, for audiences: AES-256-GCM under a key derived from the
 * secret, with the chain key as associated data, so that a sealed id copied onto another
 * subject's row does not open there. Erasure deletes it with the pseudonym.
 */

// Nonces are drawn from the CSPRNG a few hundred at a time: an import seals an id per subject,
// and one call to the generator per nonce cost as much as the encryption itself.
const POOL = 512;
let pool = Buffer.alloc(0);
let offset = 0;

function nonce(): Buffer {
  if (offset >= pool.length) {
    pool = randomBytes(AEAD_NONCE_BYTES * POOL);
    offset = 0;
  }
  offset += AEAD_NONCE_BYTES;
  return pool.subarray(offset - AEAD_NONCE_BYTES, offset);
}

/** The subject id sealed for the chain `chain`, as lowercase hex (stored as bytes). Pure but for the random nonce. */
export function sealSubject(key: Buffer, subjectId: string, chain: string): string {
  return seal(key, subjectId, Buffer.from(chain, 'utf8'), nonce()).toString('hex');
}

/** The subject id a `sealSubject` value holds, or null when it was altered, moved or sealed with another key. */
export function openSubject(key: Buffer, sealed: string, chain: string): string | null {
  return unseal(key, Buffer.from(sealed, 'hex'), Buffer.from(chain, 'utf8'));
}

import { createHash, createHmac, hkdfSync } from 'node:crypto';

/**
 * Keys derived from the one `secret`, each for a single purpose, so that a pseudonym can never
 * be replayed as a chain hash or the other way round.
 */
export interface DerivedKeys {
  pseudonym: Buffer;
  chain: Buffer;
  token: Buffer;
  /** AES-256-GCM key of outbox payloads (they name the subject). */
  outbox: Buffer;
  /** AES-256-GCM key of the subject id sealed inside confirmation tokens. */
  tokenSubject: Buffer;
}

function derive(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `express-consent:${purpose}`, 32));
}

export function deriveKeys(secret: Buffer): DerivedKeys {
  return {
    pseudonym: derive(secret, 'pseudonym'),
    chain: derive(secret, 'chain'),
    token: derive(secret, 'token'),
    outbox: derive(secret, 'outbox'),
    tokenSubject: derive(secret, 'token-subject'),
  };
}

/** HMAC-SHA-256 pseudonym of a subject id (hex). The id itself is never stored. */
export function pseudonymOf(keys: DerivedKeys, subjectId: string): string {
  return createHmac('sha256', keys.pseudonym).update(subjectId, 'utf8').digest('hex');
}

export function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

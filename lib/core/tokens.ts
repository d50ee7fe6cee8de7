import { randomBytes, timingSafeEqual } from 'node:crypto';
import { seal, unseal } from '../audit/aead';

const RANDOM = 32;
const FORMAT = /^[A-Za-z0-9_-]{80,700}$/;

/**
 * A confirmation token: 256 random bits followed by the subject id sealed with AES-256-GCM
 * (bound to those bits). The store keeps only the token's keyed hash and never the subject id,
 * yet a confirmation can name its subject in events.
 */
export function issueToken(key: Buffer, subjectId: string): string {
  const random = randomBytes(RANDOM);
  return Buffer.concat([random, seal(key, subjectId, random)]).toString('base64url');
}

/** The subject id inside a token; null for anything this library did not issue with this key. */
export function openToken(key: Buffer, token: unknown): string | null {
  if (typeof token !== 'string' || !FORMAT.test(token)) return null;
  const bytes = Buffer.from(token, 'base64url');
  return unseal(key, bytes.subarray(RANDOM), bytes.subarray(0, RANDOM));
}

/** Compares two hex digests in constant time. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

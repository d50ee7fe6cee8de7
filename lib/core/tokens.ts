import { randomBytes } from 'node:crypto';
import { SEAL_OVERHEAD, seal, unseal } from '../audit/aead';
import { hmacHex, type DerivedKeys } from '../audit/keys';
import type { PlannedDecision } from '../state/plan';
import { MAX_SUBJECT_LENGTH } from './input';
import type { IssuedToken } from './write-types';

const RANDOM = 32;
// A character takes at most 4 bytes in UTF-8.
const MAX_UTF8_PER_CHARACTER = 4;
const base64urlLength = (bytes: number) => Math.ceil((bytes * 4) / 3);

/** Characters of the shortest token (a one-byte subject id) and of the longest (the longest id). */
export const TOKEN_LENGTH = {
  min: base64urlLength(RANDOM + SEAL_OVERHEAD + 1),
  max: base64urlLength(RANDOM + SEAL_OVERHEAD + MAX_SUBJECT_LENGTH * MAX_UTF8_PER_CHARACTER),
} as const;
const FORMAT = new RegExp(`^[A-Za-z0-9_-]{${String(TOKEN_LENGTH.min)},${String(TOKEN_LENGTH.max)}}$`);

/**
 * A confirmation token: 256 random bits followed by the subject id sealed with AES-256-GCM
 * (bound to those bits). The store keeps only the token's keyed hash and never the subject id,
 * yet a confirmation can name its subject in events.
 */
export function issueToken(key: Buffer, subjectId: string): string {
  const random = randomBytes(RANDOM);
  return Buffer.concat([random, seal(key, subjectId, random)]).toString('base64url');
}

/** The keyed hash of a token: all the store keeps of it. */
export function tokenHash(key: Buffer, token: string): string {
  return hmacHex(key, token);
}

/**
 * Fresh tokens for the double opt-in grants among `planned`, valid until `expiresAt`: each
 * decision gets its token's hash (what the write stores); the tokens themselves are returned
 * once, for the subject.
 */
export function issueTokens(
  keys: Pick<DerivedKeys, 'tokenSubject' | 'token'>,
  planned: PlannedDecision[],
  subjectId: string,
  expiresAt: number,
): IssuedToken[] {
  const tokens: IssuedToken[] = [];
  for (const p of planned) {
    if (!p.requirement.doubleOptIn || p.decision !== 'granted') continue;
    const token = issueToken(keys.tokenSubject, subjectId);
    p.token = { hash: tokenHash(keys.token, token), expiresAt };
    tokens.push({ requirement: p.requirement.id, version: p.requirement.version, token, expiresAt });
  }
  return tokens;
}

/** The subject id inside a token; null for anything this library did not issue with this key. */
export function openToken(key: Buffer, token: unknown): string | null {
  if (typeof token !== 'string' || !FORMAT.test(token)) return null;
  const bytes = Buffer.from(token, 'base64url');
  return unseal(key, bytes.subarray(RANDOM), bytes.subarray(0, RANDOM));
}

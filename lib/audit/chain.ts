import { randomBytes } from 'node:crypto';
import { chainedFieldsJson, headFieldsJson, personalFieldsJson } from './fixed-json';
import { canonicalJson } from './canonical-json';
import type { HashedFields, HeadFields, PersonalFields } from './fields';
import { hmacHex } from './keys';

/** The genesis "previous hash" of every chain. */
export const GENESIS = '0'.repeat(64);

/** The keyed digest of an event's personal fields: HMAC of their canonical JSON. */
export function personalDigest(key: Buffer, fields: PersonalFields): string {
  return hmacHex(key, personalFieldsJson(fields));
}

/** The personal fields of an event that has none (most events: sweeps, imports, plain decisions). */
export const NO_PERSONAL_FIELDS: Readonly<PersonalFields> = Object.freeze({ actor: null, note: null, data: null, ip: null, userAgent: null, personalSalt: null });

/** Whether the five personal values are null, whatever the salt: an event that had none, or one erasure redacted. */
export function hasNoPersonalValues(f: Omit<PersonalFields, 'personalSalt'>): boolean {
  return f.actor === null && f.note === null && f.data === null && f.ip === null && f.userAgent === null;
}

/** Whether every personal field (and the salt) is null: an event that had none, or one erasure redacted. */
export function hasNoPersonalFields(f: PersonalFields): boolean {
  return hasNoPersonalValues(f) && (f.personalSalt ?? null) === null;
}

/** Bytes of a personal salt. */
const SALT_BYTES = 16;

/**
 * A new personal salt (hex) for a write whose events carry any of `fields`, else null: the
 * digest of no fields needs none (every reader computes it).
 */
export function newPersonalSalt(fields: Omit<PersonalFields, 'personalSalt'>): string | null {
  return hasNoPersonalValues(fields) ? null : randomBytes(SALT_BYTES).toString('hex');
}

const noneByKey = new WeakMap<Buffer, string>();

/** The personal digest of an event without personal fields (one value per key). */
export function noPersonalDigest(key: Buffer): string {
  let digest = noneByKey.get(key);
  if (digest === undefined) {
    digest = personalDigest(key, NO_PERSONAL_FIELDS);
    noneByKey.set(key, digest);
  }
  return digest;
}

/**
 * The personal digest as stored: null for an event without personal fields, whose digest every
 * reader can compute (most events: 32 bytes less each). The event's hash covers the real digest.
 */
export function storedDigest(key: Buffer, fields: PersonalFields): string | null {
  return hasNoPersonalFields(fields) ? null : personalDigest(key, fields);
}

/**
 * The keyed hash of one event, linked to its predecessor's hash: HMAC of the canonical JSON
 * of exactly the `ChainedFields` members (others on `fields` are not covered). An event with a
 * `context` is hashed in format `ec4`, which adds the context as a JSON string on a line of its
 * own (JSON text holds no raw line break, so the lines cannot be confused); one without keeps
 * format `ec3`, so that removing or adding a context changes the hash either way.
 */
export function eventHash(key: Buffer, previous: string, fields: HashedFields): string {
  return hmacHex(key, eventHashInput(key, previous, fields));
}

/** The text `eventHash` is the HMAC of. */
export function eventHashInput(key: Buffer, previous: string, fields: HashedFields): string {
  const json = chainedFieldsJson(fields, fields.personalDigest ?? noPersonalDigest(key));
  const { context } = fields;
  if (context === null || context === undefined) return `ec3\n${previous}\n${json}`;
  return `ec4\n${previous}\n${json}\n${canonicalJson(context)}`;
}

/**
 * The keyed seal of a chain's head before release 2 (position only): still checked once, when an
 * upgraded store is sealed again with `headSeal`.
 */
export function legacyHeadMac(key: Buffer, head: HeadFields): string {
  return hmacHex(key, `ec2-head\n${headFieldsJson(head)}`);
}

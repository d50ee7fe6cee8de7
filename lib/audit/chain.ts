import { chainedFieldsJson, headFieldsJson, personalFieldsJson } from './fixed-json';
import type { ChainedFields, HeadFields, PersonalFields } from './fields';
import { hmacHex } from './keys';

/** The genesis "previous hash" of every chain. */
export const GENESIS = '0'.repeat(64);

/** The keyed digest of an event's personal fields: HMAC of their canonical JSON. */
export function personalDigest(key: Buffer, fields: PersonalFields): string {
  return hmacHex(key, personalFieldsJson(fields));
}

/** The personal fields of an event that has none (most events: sweeps, imports, plain decisions). */
export const NO_PERSONAL_FIELDS: Readonly<PersonalFields> = Object.freeze({ actor: null, note: null, data: null, ip: null, userAgent: null });

/** Whether every personal field is null: an event that had none, or one erasure redacted. */
export function hasNoPersonalFields(f: PersonalFields): boolean {
  return f.actor === null && f.note === null && f.data === null && f.ip === null && f.userAgent === null;
}

/**
 * The keyed hash of one event, linked to its predecessor's hash: HMAC of the canonical JSON
 * of exactly the `ChainedFields` members (others on `fields` are not covered).
 */
export function eventHash(key: Buffer, previous: string, fields: ChainedFields): string {
  return hmacHex(key, `ec3\n${previous}\n${chainedFieldsJson(fields)}`);
}

/** The keyed seal of a chain's head, so that dropping the newest events is caught. */
export function headMac(key: Buffer, head: HeadFields): string {
  return hmacHex(key, `ec2-head\n${headFieldsJson(head)}`);
}

import { chainedFieldsJson, headFieldsJson, ledgerFieldsJson, personalFieldsJson } from './fixed-json';
import { hmacHex } from './keys';

/** The genesis "previous hash" of every chain. */
export const GENESIS = '0'.repeat(64);

/**
 * The fields of an event that the chain covers. Personal fields (the actor among them) enter
 * only through their digest, so erasure can remove them and the chain still verifies. `id` and
 * `prevId` are covered too: the successor of a deleted event names it.
 */
export interface ChainedFields {
  chain: string;
  seq: number;
  id: string;
  prevId: string | null;
  requirement: string;
  version: number;
  action: string;
  state: string;
  source: string;
  at: number;
  personalDigest: string;
}

/**
 * Personal fields of an event: erasure removes them, so the chain holds only their digest.
 * `actor` is one: it names a person (who acted for the subject) as often as a system.
 */
export interface PersonalFields {
  actor: string | null;
  note: string | null;
  data: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** The keyed digest of an event's personal fields: HMAC of their canonical JSON. */
export function personalDigest(key: Buffer, fields: PersonalFields): string {
  return hmacHex(key, personalFieldsJson(fields));
}

/** The personal fields of an event that has none (most events: sweeps, imports, plain decisions). */
export const NO_PERSONAL_FIELDS: Readonly<PersonalFields> = Object.freeze({ actor: null, note: null, data: null, ip: null, userAgent: null });

/**
 * The keyed hash of one event, linked to its predecessor's hash: HMAC of the canonical JSON
 * of exactly the `ChainedFields` members (others on `fields` are not covered).
 */
export function eventHash(key: Buffer, previous: string, fields: ChainedFields): string {
  return hmacHex(key, `ec3\n${previous}\n${chainedFieldsJson(fields)}`);
}

/** The protected head of a chain, as a tracker stores it. */
export interface HeadFields {
  chain: string;
  seq: number;
  hash: string;
  /** The id of the newest event (null for an empty chain). */
  id: string | null;
  /** The chain ends with an erasure: its events' personal fields are gone. */
  erased: boolean;
}

/** The keyed seal of a chain's head, so that dropping the newest events is caught. */
export function headMac(key: Buffer, head: HeadFields): string {
  return hmacHex(key, `ec2-head\n${headFieldsJson(head)}`);
}

/** One entry of the ledger of chains: the record that a chain exists at all. */
export interface LedgerFields {
  n: number;
  chain: string;
  /** The id of the chain's first event: how a vanished chain is named. */
  firstId: string;
  /** The previous entry's `firstId`: how a vanished entry is named. */
  prevFirstId: string | null;
}

export function ledgerMac(key: Buffer, entry: LedgerFields): string {
  return hmacHex(key, `ec2-ledger\n${ledgerFieldsJson(entry)}`);
}

/** The keyed seal of the ledger's newest entry, so that dropping the newest chain is caught. */
export function ledgerHeadMac(key: Buffer, n: number, firstId: string | null): string {
  return hmacHex(key, `ec2-ledger-head\n${n}\n${firstId ?? ''}`);
}

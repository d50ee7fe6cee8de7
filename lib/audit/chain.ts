import { canonicalJson } from './canonical-json';
import { hmacHex } from './keys';

/** The genesis "previous hash" of every chain. */
export const GENESIS = '0'.repeat(64);

/**
 * The fields of an event that the chain covers. Personal fields enter only through their
 * digest, so erasure can remove them and the chain still verifies. `id` and `prevId` are
 * covered too: the successor of a deleted event names it.
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
  actor: string | null;
  at: number;
  personalDigest: string;
}

/** Personal fields of an event: erasure removes them, so the chain holds only their digest. */
export interface PersonalFields {
  note: string | null;
  data: string | null;
  ip: string | null;
  userAgent: string | null;
}

export function personalDigest(key: Buffer, fields: PersonalFields): string {
  return hmacHex(key, canonicalJson(fields));
}

// ChainedFields' members in RFC 8785 order (UTF-16 code units): what canonicalJson writes.
const CHAINED_ORDER = [
  'action', 'actor', 'at', 'chain', 'id', 'personalDigest', 'prevId', 'requirement', 'seq', 'source', 'state', 'version',
] as const;

/**
 * `canonicalJson(fields)` without sorting keys per event: imports hash a million of them. Any
 * other shape (extra or undefined members, a value JSON cannot hold) takes the general path.
 */
function chainedJson(fields: ChainedFields): string {
  if (Object.keys(fields).length !== CHAINED_ORDER.length) return canonicalJson(fields);
  let text = '{';
  for (const name of CHAINED_ORDER) {
    const value: unknown = fields[name];
    if (value === undefined || (typeof value === 'number' && !Number.isFinite(value)) || typeof value === 'object' && value !== null) {
      return canonicalJson(fields);
    }
    text += `${text.length > 1 ? ',' : ''}"${name}":${JSON.stringify(value)}`;
  }
  return `${text}}`;
}

/** The keyed hash of one event, linked to its predecessor's hash. */
export function eventHash(key: Buffer, previous: string, fields: ChainedFields): string {
  return hmacHex(key, `ec2\n${previous}\n${chainedJson(fields)}`);
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
  return hmacHex(key, `ec2-head\n${canonicalJson({ ...head })}`);
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
  return hmacHex(key, `ec2-ledger\n${canonicalJson({ ...entry })}`);
}

/** The keyed seal of the ledger's newest entry, so that dropping the newest chain is caught. */
export function ledgerHeadMac(key: Buffer, n: number, firstId: string | null): string {
  return hmacHex(key, `ec2-ledger-head\n${n}\n${firstId ?? ''}`);
}

import { canonicalJson } from './canonical-json';
import { hmacHex } from './keys';

/** The genesis "previous hash" of every chain. */
export const GENESIS = '0'.repeat(64);

/** The fields of an event that the chain covers. Personal fields enter through their digest. */
export interface ChainedFields {
  chain: string;
  seq: number;
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

/** The keyed hash of one event, linked to its predecessor. */
export function eventHash(key: Buffer, previous: string, fields: ChainedFields): string {
  return hmacHex(key, `ec1\n${previous}\n${canonicalJson(fields)}`);
}

/** The keyed seal of a chain's head, so that dropping the newest events is caught. */
export function headMac(key: Buffer, chain: string, seq: number, hash: string): string {
  return hmacHex(key, `ec1-head\n${chain}\n${seq}\n${hash}`);
}

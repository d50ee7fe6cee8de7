import { isStoredEventId } from './event-ids';
import { leafHash } from './merkle';

/*
 * The leaves of the global log: one per event, 40 bytes each, the event's stored id as a
 * 64-bit big-endian integer followed by its chain hash. The id names the event (so a missing
 * one can be reported); the hash, keyed with the secret and chained to every earlier event of
 * its subject, binds what the event says.
 */

/** Bytes per leaf. */
export const LEAF_BYTES = 40;
const ID_BYTES = 8;

/** What a leaf is made of. */
export interface LeafSource {
  id: string;
  /** The event's chain hash, in hex. */
  hash: string;
}

function writeId(buffer: Buffer, offset: number, id: string): void {
  const n = Number(id);
  if (Number.isSafeInteger(n) && n > 0 && n < 2 ** 48) {
    buffer.writeUInt16BE(0, offset);
    buffer.writeUIntBE(n, offset + 2, 6);
  } else {
    // A stored id from 2^48 on (the contract allows up to 2^63 - 1).
    buffer.writeBigUInt64BE(isStoredEventId(id) ? BigInt(id) : 0n, offset);
  }
}

/** Writes the leaf of one event at `offset` of `buffer`. */
export function writeLeaf(buffer: Buffer, offset: number, event: LeafSource): void {
  writeId(buffer, offset, event.id);
  buffer.fill(0, offset + ID_BYTES, offset + LEAF_BYTES);
  buffer.write(event.hash, offset + ID_BYTES, 32, 'hex');
}

/** The leaves of `events`, in order, as one buffer. */
export function encodeLeaves(events: readonly LeafSource[]): Buffer {
  const out = Buffer.alloc(events.length * LEAF_BYTES);
  for (let i = 0; i < events.length; i += 1) writeLeaf(out, i * LEAF_BYTES, events[i] as LeafSource);
  return out;
}

/** The number of whole leaves in `leaves`. */
export function leafCount(leaves: Buffer): number {
  return Math.floor(leaves.length / LEAF_BYTES);
}

/** The stored event id of leaf `i`. */
export function leafId(leaves: Buffer, i: number): string {
  const offset = i * LEAF_BYTES;
  if (leaves.readUInt16BE(offset) === 0) return String(leaves.readUIntBE(offset + 2, 6));
  return leaves.readBigUInt64BE(offset).toString();
}

/** The stored event id of leaf `i` as a number when it is below 2^48 (nearly always), else null. */
export function leafNumber(leaves: Buffer, i: number): number | null {
  const offset = i * LEAF_BYTES;
  return leaves.readUInt16BE(offset) === 0 ? leaves.readUIntBE(offset + 2, 6) : null;
}

/** The bytes of leaf `i` (a view, not a copy). */
export function leafBytes(leaves: Buffer, i: number): Buffer {
  return leaves.subarray(i * LEAF_BYTES, (i + 1) * LEAF_BYTES);
}

/** The event hash in leaf `i` (a view: writing to it rewrites the leaf). */
export function leafEventHash(leaves: Buffer, i: number): Buffer {
  return leaves.subarray(i * LEAF_BYTES + ID_BYTES, (i + 1) * LEAF_BYTES);
}

/** The Merkle leaf hash of leaf `i`. */
export function leafHashAt(leaves: Buffer, i: number): Buffer {
  return leafHash(leafBytes(leaves, i));
}

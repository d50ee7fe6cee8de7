import { LEAF_BYTES } from '../audit/log-leaf';

/*
 * How a log entry's leaves are stored. A transaction's events nearly always have consecutive
 * ids, so each leaf's id repeats the one before it plus one: such an entry is stored as a tag
 * byte, the first id (8 bytes) and the events' hashes (32 bytes each), 8 bytes less per event.
 * Other entries are stored as they are. The stored form's odd length tells the two apart (a plain
 * entry is a whole number of 40-byte leaves), and reading gives back the plain leaves: the proof
 * (leaf hashes, tree, inclusion proofs) never sees the packing.
 */

const PACKED = 0x01;
const ID_BYTES = 8;
const HASH_BYTES = LEAF_BYTES - ID_BYTES;

/** The stored form of `leaves` (plain 40-byte leaves, in order). */
export function packLeaves(leaves: Buffer): Buffer {
  const count = Math.floor(leaves.length / LEAF_BYTES);
  if (count < 2 || leaves.length !== count * LEAF_BYTES) return leaves;
  const first = leaves.readBigUInt64BE(0);
  for (let i = 1; i < count; i += 1) {
    if (leaves.readBigUInt64BE(i * LEAF_BYTES) !== first + BigInt(i)) return leaves;
  }
  const out = Buffer.allocUnsafe(1 + ID_BYTES + count * HASH_BYTES);
  out[0] = PACKED;
  leaves.copy(out, 1, 0, ID_BYTES);
  for (let i = 0; i < count; i += 1) leaves.copy(out, 1 + ID_BYTES + i * HASH_BYTES, i * LEAF_BYTES + ID_BYTES, (i + 1) * LEAF_BYTES);
  return out;
}

/** The plain leaves of a stored entry (stored plain, packed, or neither: then as stored). */
export function unpackLeaves(stored: Buffer): Buffer {
  const body = stored.length - 1 - ID_BYTES;
  if (stored.length % 2 === 0 || stored[0] !== PACKED || body <= 0 || body % HASH_BYTES !== 0) return stored;
  const count = body / HASH_BYTES;
  const first = stored.readBigUInt64BE(1);
  const out = Buffer.allocUnsafe(count * LEAF_BYTES);
  // Ids below 2^48 (every store short of that many events) as numbers: a BigInt per leaf was
  // most of the time and garbage of reading the log.
  const small = first + BigInt(count) <= 2n ** 48n ? Number(first) : -1;
  for (let i = 0; i < count; i += 1) {
    if (small >= 0) {
      out.writeUInt16BE(0, i * LEAF_BYTES);
      out.writeUIntBE(small + i, i * LEAF_BYTES + 2, 6);
    } else {
      out.writeBigUInt64BE(first + BigInt(i), i * LEAF_BYTES);
    }
    stored.copy(out, i * LEAF_BYTES + ID_BYTES, 1 + ID_BYTES + i * HASH_BYTES, 1 + ID_BYTES + (i + 1) * HASH_BYTES);
  }
  return out;
}

import { LEAF_BYTES } from '../audit/log-leaf';

/*
 * How a log entry's leaves are stored. A leaf is an event's id and its chain hash, and the
 * events table keeps that hash already: an entry stores only the ids, and reading it takes each
 * hash from the event with that id (see log-hashes.ts). A transaction's events nearly always
 * have consecutive ids, so most entries are a tag byte, the first id and the count (13 bytes
 * for any number of events); others are a tag byte and each id (8 bytes each).
 *
 * Stores written before (by migration 007's backfill, and by writers before this form) hold the
 * hashes too: whole 40-byte leaves (even length), or a tag byte, the first of consecutive ids and
 * the hashes. Those forms are still read as they are. Each stored form has an odd length but the
 * plain one, and its own tag; anything else is read as plain leaves, and the proof then fails to
 * add up. Reading always gives back plain leaves: the proof (leaf hashes, tree, inclusion proofs)
 * never sees how they were stored.
 */

/** Written before: the first of consecutive ids, then the hashes. */
const PACKED = 0x01;
/** The first of consecutive ids and their count. */
const RUN = 0x02;
/** Each id. */
const IDS = 0x03;
const ID_BYTES = 8;
const COUNT_BYTES = 4;
/** Bytes of a chain hash in a leaf. */
export const HASH_BYTES = LEAF_BYTES - ID_BYTES;
const RUN_BYTES = 1 + ID_BYTES + COUNT_BYTES;
// Ids below this are written as numbers: a BigInt per leaf was most of the time of reading the log.
const SMALL = 2n ** 48n;
// A stored event id is a positive integer below 2^63.
const MAX_ID = 2n ** 63n - 1n;
/**
 * The most events an entry may name: far more than a write or an import batch (10,000 decisions)
 * holds. A stored count beyond it (13 bytes could claim four billion leaves) is no form of the
 * library's: read as it is, so that the check reports the entry instead of reading its events.
 */
export const MAX_ENTRY_LEAVES = 1_048_576;

/** Consecutive event ids an entry names: the first (its 8 stored bytes as a number) and how many. */
export interface IdRun {
  first: bigint;
  count: number;
}

/** A stored entry read: its leaves (stored with their hashes, as before) or the runs of ids whose hashes the events hold. */
export type StoredEntry = { leaves: Buffer } | { runs: IdRun[] };

/** The stored form of `leaves` (plain 40-byte leaves, in order): their ids only. */
export function packLeaves(leaves: Buffer): Buffer {
  const count = Math.floor(leaves.length / LEAF_BYTES);
  // Not whole leaves: stored as given (no writer of the library hands such a buffer); more
  // events than an entry may name by id: stored whole, with their hashes.
  if (count === 0 || leaves.length !== count * LEAF_BYTES || count > MAX_ENTRY_LEAVES) return leaves;
  const first = leaves.readBigUInt64BE(0);
  let consecutive = true;
  for (let i = 1; i < count && consecutive; i += 1) consecutive = leaves.readBigUInt64BE(i * LEAF_BYTES) === first + BigInt(i);
  if (consecutive) {
    const out = Buffer.allocUnsafe(RUN_BYTES);
    out[0] = RUN;
    out.writeBigUInt64BE(first, 1);
    out.writeUInt32BE(count, 1 + ID_BYTES);
    return out;
  }
  const out = Buffer.allocUnsafe(1 + count * ID_BYTES);
  out[0] = IDS;
  for (let i = 0; i < count; i += 1) leaves.copy(out, 1 + i * ID_BYTES, i * LEAF_BYTES, i * LEAF_BYTES + ID_BYTES);
  return out;
}

/** The runs of the ids of a stored `IDS` entry, consecutive ones merged; null when one is no stored event id. */
function runsOfIds(stored: Buffer): IdRun[] | null {
  const runs: IdRun[] = [];
  let run: IdRun | null = null;
  for (let at = 1; at < stored.length; at += ID_BYTES) {
    const id = stored.readBigUInt64BE(at);
    if (id < 1n || id > MAX_ID) return null;
    if (run !== null && id === run.first + BigInt(run.count)) run.count += 1;
    else runs.push((run = { first: id, count: 1 }));
  }
  return runs;
}

/** The run of a stored `RUN` entry; null when it names no event or more than an entry may, or ids beyond the stored ones'. */
function runOf(stored: Buffer): IdRun | null {
  const first = stored.readBigUInt64BE(1);
  const count = stored.readUInt32BE(1 + ID_BYTES);
  const valid = count > 0 && count <= MAX_ENTRY_LEAVES && first >= 1n && first + BigInt(count - 1) <= MAX_ID;
  return valid ? { first, count } : null;
}

/**
 * What a stored entry holds (see the top of this file). A value of no form the library writes
 * (a tag with a length, count or id it never stores) is read as it is: the check then reports
 * the entry (its leaves are not whole, or not the sealed ones).
 */
export function readStored(stored: Buffer): StoredEntry {
  if (stored.length % 2 === 1) {
    const run = stored[0] === RUN && stored.length === RUN_BYTES ? runOf(stored) : null;
    if (run !== null) return { runs: [run] };
    const ids = stored[0] === IDS && stored.length > 1 && (stored.length - 1) % ID_BYTES === 0 && stored.length <= 1 + MAX_ENTRY_LEAVES * ID_BYTES ? runsOfIds(stored) : null;
    if (ids !== null) return { runs: ids };
  }
  return { leaves: unpackLeaves(stored) };
}

/** The number of ids in `runs`. */
export function idsIn(runs: readonly IdRun[]): number {
  return runs.reduce((sum, run) => sum + run.count, 0);
}

/** The ids of `runs` from the `from`-th to the `to`-th (exclusive), as runs. */
export function sliceRuns(runs: readonly IdRun[], from: number, to: number): IdRun[] {
  const out: IdRun[] = [];
  let start = 0;
  for (const run of runs) {
    const lo = Math.max(from, start);
    const hi = Math.min(to, start + run.count);
    if (lo < hi) out.push({ first: run.first + BigInt(lo - start), count: hi - lo });
    start += run.count;
  }
  return out;
}

/**
 * The plain leaves of `runs`: each id, followed by its hash from `hashes` (32 bytes per id, in
 * the runs' order).
 */
export function leavesOfRuns(runs: readonly IdRun[], hashes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(idsIn(runs) * LEAF_BYTES);
  let leaf = 0;
  for (const run of runs) {
    const small = run.first + BigInt(run.count) <= SMALL ? Number(run.first) : -1;
    for (let i = 0; i < run.count; i += 1, leaf += 1) {
      const at = leaf * LEAF_BYTES;
      if (small >= 0) {
        out.writeUInt16BE(0, at);
        out.writeUIntBE(small + i, at + 2, 6);
      } else {
        out.writeBigUInt64BE(run.first + BigInt(i), at);
      }
      hashes.copy(out, at + ID_BYTES, leaf * HASH_BYTES, (leaf + 1) * HASH_BYTES);
    }
  }
  return out;
}

/** The plain leaves of an entry stored with its hashes (plain, packed with its hashes, or neither: then as stored). */
export function unpackLeaves(stored: Buffer): Buffer {
  const body = stored.length - 1 - ID_BYTES;
  if (stored.length % 2 === 0 || stored[0] !== PACKED || body <= 0 || body % HASH_BYTES !== 0) return stored;
  const count = body / HASH_BYTES;
  const hashes = stored.subarray(1 + ID_BYTES);
  return leavesOfRuns([{ first: stored.readBigUInt64BE(1), count }], hashes);
}

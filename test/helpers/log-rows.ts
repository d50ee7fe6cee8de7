import { encodeLeaves, leafCount, leafId } from '../../lib/audit/log-leaf';
import { packLeaves, readStored } from '../../lib/knex/packed-leaves';

/** The event ids a stored log entry names, in order, in whichever form it was stored. */
export function storedIds(stored: Uint8Array): string[] {
  const entry = readStored(Buffer.from(stored));
  if ('leaves' in entry) return Array.from({ length: leafCount(entry.leaves) }, (_, i) => leafId(entry.leaves, i));
  return entry.runs.flatMap((run) => Array.from({ length: run.count }, (_, i) => String(run.first + BigInt(i))));
}

/** A stored entry with the ids of `gone` taken out, stored as the library stores entries; null when none is left. */
export function storedWithout(stored: Uint8Array, gone: ReadonlySet<string>): Buffer | null {
  const kept = storedIds(stored).filter((id) => !gone.has(id));
  // The stored form keeps the ids only: the hashes given here are not stored.
  return kept.length === 0 ? null : packLeaves(encodeLeaves(kept.map((id) => ({ id, hash: '00'.repeat(32) }))));
}

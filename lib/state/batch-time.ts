import type { CurrentRecord } from '../tracker/records';

// How far ahead of the clock a subject's latest answer may be and still date a batch: a write
// waits for the subject's lock no longer than its storage deadline allows. An answer further
// ahead came from a clock that is wrong, which the batch does not follow.
const MAX_LEAD_MS = 10_000;

/**
 * The time of a batch: the clock's reading, or the subject's latest answer when that is later
 * (by at most `MAX_LEAD_MS`). A clock read before the subject's lock was taken (another write of
 * the subject took it first), or another process's clock a little ahead, would otherwise date a
 * withdrawal before the grant it withdraws. Pure.
 */
export function batchTime(records: readonly CurrentRecord[], now: number): number {
  let at = now;
  for (const r of records) {
    if (r.decidedAt !== null && r.decidedAt > at) at = r.decidedAt;
    if (r.pendingAt !== null && r.pendingAt > at) at = r.pendingAt;
  }
  return at - now <= MAX_LEAD_MS ? at : now;
}

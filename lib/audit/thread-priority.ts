import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

// Nice value of a hashing thread: the scheduler then gives a core to the main thread (and to
// the database's threads) first, and to the hashing what is left.
const BACKGROUND_NICE = 10;

/**
 * Lowers the scheduling priority of the calling thread where the system keeps one per thread
 * (Linux, whose `/proc/thread-self` names the thread); elsewhere, or when refused, does nothing.
 * The hashing threads (`verify()`'s, a large audience's) call it first: they only work ahead of
 * the main thread, which the check waits on (and which serves requests meanwhile), so on a
 * machine with few cores they should not take its core from it. A verdict never depends on when
 * a thread runs.
 */
export function lowerThreadPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    // Only ever lowered: a process started at a lower priority than this keeps it.
    if (Number.isSafeInteger(tid) && tid > 0 && tid !== process.pid && getPriority(tid) < BACKGROUND_NICE) setPriority(tid, BACKGROUND_NICE);
  } catch {
    // no per-thread priority here: the thread runs at the process's
  }
}

import { availableParallelism } from 'node:os';
import { threadScript } from './thread';
import { ThreadPool } from './thread-pool';

/** A batch of texts to check: UTF-8 bytes end to end, where each ends, and the HMAC each should have (64 hex digits each). */
export interface HmacBatch {
  id: number;
  /** Which of the pool's keys (its index in `HmacPool.start`'s list). */
  key: number;
  /** Hex digits to compare: 64, or 32 for a truncated seal. */
  digits: number;
  texts: Uint8Array;
  ends: Uint32Array;
  expected: Uint8Array;
}

/**
 * When `verify()` checks event hashes on worker threads, and how many. Internal: tests lower
 * `minEvents` or `size`, or point `script` at something that cannot start; `started`,
 * `failed` and `stopped` count threads.
 */
export const hmacWorkers = {
  /** Events checked in-process first: a small store is done before threads would have started. */
  minEvents: 4_096,
  /** Threads: one core is left to the main thread (reads, parsing, the chains' logic). */
  size: Math.min(4, availableParallelism() - 1),
  script: threadScript('hmac-worker'),
  started: 0,
  failed: 0,
  stopped: 0,
};

/**
 * Worker threads that check HMACs in batches, round robin. A batch whose thread fails (or a
 * pool that could not start) resolves to null: the caller then computes those HMACs itself,
 * so a verdict never depends on a thread being there.
 */
export class HmacPool {
  private constructor(private readonly pool: ThreadPool) {}

  /** A pool of `hmacWorkers.size` threads that check HMACs under `keys`, or null when there is none to have. */
  static start(keys: readonly Buffer[]): HmacPool | null {
    const { size, script } = hmacWorkers;
    if (size < 1 || script === null) return null;
    return new HmacPool(new ThreadPool(script, keys.map((key) => new Uint8Array(key)), size, hmacWorkers));
  }

  /** The verdict of each text of the batch (1: its HMAC is the expected one), or null when no thread answered. */
  check(batch: Omit<HmacBatch, 'id'>): Promise<Uint8Array | null> {
    return this.pool.run(batch, [batch.texts.buffer as ArrayBuffer, batch.ends.buffer as ArrayBuffer, batch.expected.buffer as ArrayBuffer]) as Promise<Uint8Array | null>;
  }

  /** Stops the threads; batches still out resolve to null. */
  close(): void {
    this.pool.close();
  }
}

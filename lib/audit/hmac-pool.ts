import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startThread, threadScript } from './thread';

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
 * When `verify()` checks event hashes on worker threads (and how many threads a pool has, for
 * large audiences too). Internal: tests lower `minEvents` or `size`, or point `script` at
 * something that cannot start; `started` and `failed` count threads.
 */
export const hmacWorkers = {
  /** Events checked in-process first: a small store is done before threads would have started. */
  minEvents: 4_096,
  /** Threads: one core is left to the main thread (reads, parsing, the chains' logic). */
  size: Math.min(4, availableParallelism() - 1),
  script: threadScript('hmac-worker'),
  started: 0,
  failed: 0,
};

interface Waiting {
  worker: Worker;
  resolve: (verdicts: Uint8Array | null) => void;
}

/**
 * Worker threads that check HMACs in batches, round robin. A batch whose thread fails (or a
 * pool that could not start) resolves to null: the caller then computes those HMACs itself,
 * so a verdict never depends on a thread being there.
 */
export class HmacPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;
  private ids = 0;

  private constructor(keys: readonly Buffer[], size: number, script: URL) {
    for (let i = 0; i < size; i += 1) {
      let worker: Worker;
      try {
        worker = startThread(script, keys.map((key) => new Uint8Array(key)));
      } catch {
        hmacWorkers.failed += 1;
        continue;
      }
      hmacWorkers.started += 1;
      worker.on('message', ({ id, verdicts }: { id: number; verdicts: Uint8Array }) => {
        const waiting = this.waiting.get(id);
        this.waiting.delete(id);
        waiting?.resolve(verdicts);
        this.idle(worker);
      });
      worker.on('error', () => { this.drop(worker); });
      // An answer that cannot be read would leave its batch waiting: the thread is given up.
      worker.on('messageerror', () => { this.drop(worker); void worker.terminate(); });
      worker.on('exit', () => { this.drop(worker); });
      // A thread with no batch to answer keeps no process alive (a listing its caller dropped
      // without ending it). After the listeners, which hold the thread again.
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** A pool of `hmacWorkers.size` threads that check HMACs under `keys`, or null when there is none to have. */
  static start(keys: readonly Buffer[]): HmacPool | null {
    const { size, script } = hmacWorkers;
    if (size < 1 || script === null) return null;
    return new HmacPool(keys, size, script);
  }

  /** The verdict of each text of the batch (1: its HMAC is the expected one), or null when no thread answered. */
  check(batch: Omit<HmacBatch, 'id'>): Promise<Uint8Array | null> {
    const worker = this.workers[this.next % Math.max(1, this.workers.length)];
    this.next += 1;
    if (worker === undefined) return Promise.resolve(null);
    const id = (this.ids += 1);
    return new Promise((resolve) => {
      this.waiting.set(id, { worker, resolve });
      // Held while a batch is out: its answer is awaited.
      worker.ref();
      try {
        worker.postMessage({ id, ...batch }, [batch.texts.buffer as ArrayBuffer, batch.ends.buffer as ArrayBuffer, batch.expected.buffer as ArrayBuffer]);
      } catch {
        this.waiting.delete(id);
        this.idle(worker);
        resolve(null);
      }
    });
  }

  /** Lets the process exit without `worker` once it has no batch out. */
  private idle(worker: Worker): void {
    for (const waiting of this.waiting.values()) if (waiting.worker === worker) return;
    worker.unref();
  }

  /** Stops the threads; batches still out resolve to null. */
  close(): void {
    for (const worker of [...this.workers]) {
      this.drop(worker, false);
      void worker.terminate();
    }
  }

  private drop(worker: Worker, failed = true): void {
    const at = this.workers.indexOf(worker);
    if (at < 0) return;
    this.workers.splice(at, 1);
    if (failed) hmacWorkers.failed += 1;
    for (const [id, waiting] of this.waiting) {
      if (waiting.worker !== worker) continue;
      this.waiting.delete(id);
      waiting.resolve(null);
    }
  }
}

import type { Transferable, Worker } from 'node:worker_threads';
import { startThread } from './thread';

/** How many threads of a kind started, failed, and were stopped by their pool (tests read them). */
export interface ThreadCounts {
  started: number;
  failed: number;
  stopped: number;
}

interface Waiting {
  worker: Worker;
  resolve: (answer: unknown) => void;
}

/**
 * Worker threads of one script that answer jobs, round robin. The script answers each
 * `{ id, ...job }` message with `{ id, answer }`. A job whose thread fails (or a pool whose
 * threads could not start) resolves to null: the caller then does the work itself, so that no
 * answer depends on a thread being there.
 */
export class ThreadPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;
  private ids = 0;

  constructor(script: URL, workerData: unknown, size: number, private readonly counts: ThreadCounts) {
    for (let i = 0; i < size; i += 1) {
      let worker: Worker;
      try {
        worker = startThread(script, workerData);
      } catch {
        counts.failed += 1;
        continue;
      }
      counts.started += 1;
      worker.on('message', ({ id, answer }: { id: number; answer: unknown }) => {
        const waiting = this.waiting.get(id);
        this.waiting.delete(id);
        waiting?.resolve(answer);
        this.idle(worker);
      });
      worker.on('error', () => { this.drop(worker); });
      // An answer that cannot be read would leave its job waiting: the thread is given up.
      worker.on('messageerror', () => { this.drop(worker); void worker.terminate(); });
      worker.on('exit', () => { this.drop(worker); });
      // A thread with no job to answer keeps no process alive (a listing its caller dropped
      // without ending it). After the listeners, which hold the thread again.
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Threads running. */
  get size(): number {
    return this.workers.length;
  }

  /** The next thread's answer to `job` (its `transfer` moved to it), or null when no thread answered. */
  run(job: object, transfer: readonly Transferable[] = []): Promise<unknown> {
    const worker = this.workers[this.next % Math.max(1, this.workers.length)];
    this.next += 1;
    if (worker === undefined) return Promise.resolve(null);
    const id = (this.ids += 1);
    return new Promise((resolve) => {
      this.waiting.set(id, { worker, resolve });
      // Held while a job is out: its answer is awaited.
      worker.ref();
      try {
        worker.postMessage({ id, ...job }, [...transfer]);
      } catch {
        this.waiting.delete(id);
        this.idle(worker);
        resolve(null);
      }
    });
  }

  /** Stops the threads; jobs still out resolve to null. */
  close(): void {
    for (const worker of [...this.workers]) {
      this.drop(worker, false);
      this.counts.stopped += 1;
      void worker.terminate();
    }
  }

  /** Lets the process exit without `worker` once it has no job out. */
  private idle(worker: Worker): void {
    for (const waiting of this.waiting.values()) if (waiting.worker === worker) return;
    worker.unref();
  }

  private drop(worker: Worker, failed = true): void {
    const at = this.workers.indexOf(worker);
    if (at < 0) return;
    this.workers.splice(at, 1);
    if (failed) this.counts.failed += 1;
    for (const [id, waiting] of this.waiting) {
      if (waiting.worker !== worker) continue;
      this.waiting.delete(id);
      waiting.resolve(null);
    }
  }
}

import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { LEAF_BYTES } from './log-leaf';
import { TreeState, type TreeSizes, type TreeSnapshot } from './log-tree';
import { startThread, threadScript } from './thread';

/** What the recomputed tree says once every leaf is in. */
export interface TreeFacts {
  size: number;
  sealedRoot: string | null;
  claimedRoot: string | null;
  /** Hash in hex of each complete block of the sealed tree, by block index. */
  blocks: Map<number, string>;
}

/**
 * When the tree is hashed on a worker thread. Internal: tests lower `minLeaves` or point
 * `script` at something that cannot start; `started` and `failed` count what happened.
 */
export const treeWorkers = {
  /** Leaves hashed in-process first: a small log is done before a thread would have started. */
  minLeaves: 16_384,
  /** Off on a single core, where a thread only takes turns with the reads. */
  enabled: availableParallelism() > 1,
  script: threadScript('tree-worker'),
  started: 0,
  failed: 0,
};

// Leaves per message: few messages, each answered with the frontier (a few hundred bytes).
const BATCH_LEAVES = 8192;

/**
 * Recomputes the log's tree from its leaves in order, on a worker thread once the log proves
 * large, so that hashing it (two SHA-256 per leaf) overlaps the reads and the chains' checks
 * on the main thread. The answer does not depend on where it was computed: the thread runs
 * the same `TreeState`, and when it cannot start or stops, the leaves it has not answered for
 * are hashed in-process from its last snapshot.
 */
export class TreeHasher {
  private local: TreeState | null;
  private worker: Worker | null = null;
  /** The worker's last answer: the state after every batch it acknowledged. */
  private base: TreeSnapshot | null = null;
  /** Batches sent and not yet answered, oldest first. */
  private pending: Buffer[] = [];
  /** Leaves gathered for the next message to the thread (which gets a copy). */
  private batch: Buffer | null = null;
  private batchLeaves = 0;
  private readonly blocks = new Map<number, string>();
  private drained: (() => void) | null = null;
  private closed = false;

  constructor(private readonly sizes: TreeSizes) {
    this.local = new TreeState(sizes);
  }

  /** Appends leaves [from, to) of `leaves`. */
  push(leaves: Buffer, from: number, to: number): void {
    // Nothing would hash them: the thread is gone and no in-process state was kept.
    if (this.closed) throw new Error('TreeHasher: leaves pushed after close()');
    if (this.local !== null && this.worker === null && this.base === null && this.local.size + (to - from) > treeWorkers.minLeaves) this.start();
    if (this.local !== null) {
      this.local.push(leaves, from, to);
      return;
    }
    for (let at = from; at < to;) {
      this.batch ??= Buffer.from(new ArrayBuffer(BATCH_LEAVES * LEAF_BYTES));
      const n = Math.min(to - at, BATCH_LEAVES - this.batchLeaves);
      leaves.copy(this.batch, this.batchLeaves * LEAF_BYTES, at * LEAF_BYTES, (at + n) * LEAF_BYTES);
      this.batchLeaves += n;
      at += n;
      if (this.batchLeaves === BATCH_LEAVES) this.send();
      // The thread failed as the batch went out (`send` fell back): the rest is hashed here.
      const local = this.local as TreeState | null;
      if (local !== null) {
        local.push(leaves, at, to);
        return;
      }
    }
  }

  /** The tree over every leaf pushed; the thread, if any, is stopped. */
  async finish(): Promise<TreeFacts> {
    if (this.closed) throw new Error('TreeHasher: finish() after close()');
    this.send();
    if (this.pending.length > 0) await new Promise<void>((resolve) => { this.drained = resolve; });
    const last = this.local !== null ? this.local.snapshot() : (this.base as TreeSnapshot);
    this.keep(last);
    this.close();
    return { size: last.size, sealedRoot: last.sealedRoot, claimedRoot: last.claimedRoot, blocks: this.blocks };
  }

  /** Stops the thread (a check that failed half-way). */
  close(): void {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) void worker.terminate();
  }

  private start(): void {
    const { script, enabled } = treeWorkers;
    if (!enabled || script === null) return;
    const local = this.local as TreeState;
    const from = local.snapshot();
    this.keep(from);
    let worker: Worker;
    try {
      worker = startThread(script, { sizes: this.sizes, from });
    } catch {
      treeWorkers.failed += 1;
      this.base = from;
      return;
    }
    treeWorkers.started += 1;
    this.worker = worker;
    this.base = from;
    this.local = null;
    worker.on('message', (snapshot: TreeSnapshot) => {
      this.pending.shift();
      this.base = snapshot;
      this.keep(snapshot);
      if (this.pending.length === 0) this.settle();
    });
    worker.on('error', () => { this.fallBack(worker); });
    worker.on('exit', () => { this.fallBack(worker); });
    worker.on('messageerror', () => { this.fallBack(worker); });
  }

  /** The thread failed or stopped before answering for everything: the rest is hashed here. */
  private fallBack(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = null;
    treeWorkers.failed += 1;
    void worker.terminate();
    const local = new TreeState(this.sizes, this.base as TreeSnapshot);
    for (const leaves of this.pending) local.push(leaves, 0, leaves.length / LEAF_BYTES);
    this.pending = [];
    this.local = local;
    if (this.batch !== null) local.push(this.batch, 0, this.batchLeaves);
    this.batch = null;
    this.batchLeaves = 0;
    this.settle();
  }

  private send(): void {
    const worker = this.worker;
    if (this.batch === null || this.batchLeaves === 0 || worker === null) return;
    const leaves = this.batch.subarray(0, this.batchLeaves * LEAF_BYTES);
    this.batch = null;
    this.batchLeaves = 0;
    // The thread gets a copy; the leaves stay here until it answers, for a fall-back.
    this.pending.push(leaves);
    try {
      worker.postMessage(leaves);
    } catch {
      this.fallBack(worker);
    }
  }

  private settle(): void {
    const drained = this.drained;
    this.drained = null;
    drained?.();
  }

  private keep(snapshot: TreeSnapshot): void {
    for (const [index, hash] of snapshot.blocks) this.blocks.set(index, hash);
  }
}

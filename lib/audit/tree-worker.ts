import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from './thread-priority';
import { TreeState, type TreeSizes, type TreeSnapshot } from './log-tree';

/*
 * The worker thread that recomputes the global log's tree for `verify()` (see `TreeHasher`):
 * it receives batches of leaves in order and answers each with the tree's snapshot after it.
 */

const { sizes, from } = workerData as { sizes: TreeSizes; from: TreeSnapshot };
const state = new TreeState(sizes, from);

lowerThreadPriority();

parentPort?.on('message', (leaves: Uint8Array) => {
  const buffer = Buffer.from(leaves.buffer, leaves.byteOffset, leaves.byteLength);
  state.push(buffer, 0, Math.floor(buffer.length / 40));
  parentPort?.postMessage(state.snapshot());
});

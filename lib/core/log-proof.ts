import { leafCount, leafHashAt, leafId } from '../audit/log-leaf';
import { BLOCK_LEAVES, idBelow } from '../audit/log-seal';
import { EMPTY_ROOT, inclusionPath, leafHash, nodeHash, rootFromPath, splitPoint } from '../audit/merkle';
import { ConsentStoreError } from '../errors';
import type { LeafPosition, LogHead } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';

/** What building an inclusion proof reads. */
export type LogReader = Pick<ConsentTracker, 'logBlocks' | 'logLeaves'>;

/** Where one event stands in the log's tree of `size` leaves. */
export interface Inclusion {
  leafIndex: number;
  leafHash: Buffer;
  /** Nearest sibling first. */
  path: Buffer[];
}

/** The size and root hex of a head (the empty tree without one). */
export function treeOf(head: LogHead | null): { size: number; root: string } {
  return head === null ? { size: 0, root: EMPTY_ROOT.toString('hex') } : { size: head.size, root: head.root };
}

const PAGE = 1000;

/** The stored hashes of the complete blocks of a tree of `size` leaves, by index. */
async function blockHashes(tracker: LogReader, size: number): Promise<Buffer[]> {
  const count = Math.floor(size / BLOCK_LEAVES);
  const hashes: Buffer[] = [];
  while (hashes.length < count) {
    const page = await tracker.logBlocks({ from: hashes.length, limit: Math.min(PAGE, count - hashes.length) });
    if (page.length === 0) break;
    for (const block of page) {
      if (block.index !== hashes.length) throw new ConsentStoreError('a block of the global log is missing: run verify()');
      hashes.push(Buffer.from(block.hash, 'hex'));
    }
  }
  if (hashes.length < count) throw new ConsentStoreError('a block of the global log is missing: run verify()');
  return hashes;
}

/** The leaf hashes of block `index`, read from `start`. */
async function blockLeaves(tracker: LogReader, start: LeafPosition, count: number): Promise<Buffer> {
  return tracker.logLeaves({ from: start, count });
}

/** Finds the leaf of event `id` with chain hash `hash`: its index, or null when the sealed tree lacks it. */
async function findLeaf(tracker: LogReader, head: LogHead, id: string, hash: string): Promise<{ index: number; block: Buffer } | null> {
  const candidates: Array<{ first: number; start: LeafPosition; count: number }> = [];
  for (const block of await tracker.logBlocks({ containing: id, limit: 64 })) {
    if ((block.index + 1) * BLOCK_LEAVES <= head.size) candidates.push({ first: block.index * BLOCK_LEAVES, start: block.start, count: BLOCK_LEAVES });
  }
  const open = head.open;
  if (open !== null && !idBelow(id, open.minId) && !idBelow(open.maxId, id)) {
    const first = head.size - (head.size % BLOCK_LEAVES);
    candidates.push({ first, start: open, count: head.size - first });
  }
  for (const candidate of candidates) {
    const leaves = await blockLeaves(tracker, candidate.start, candidate.count);
    for (let i = 0; i < leafCount(leaves); i += 1) {
      if (leafId(leaves, i) === id && leaves.toString('hex', i * 40 + 8, i * 40 + 40) === hash) return { index: candidate.first + i, block: leaves };
    }
  }
  return null;
}

/**
 * The inclusion proof of the event `id` (chain hash `hash`) in the sealed tree of `head`, built
 * from the stored blocks and the leaves of at most two blocks (the event's and the last, partly
 * filled one). Null when the sealed tree does not hold the event (yet).
 *
 * @throws ConsentStoreError when the stored blocks or leaves do not lead to the sealed root.
 */
export async function inclusionOf(tracker: LogReader, head: LogHead | null, id: string, hash: string): Promise<Inclusion | null> {
  if (head === null || head.size === 0) return null;
  const found = await findLeaf(tracker, head, id, hash);
  if (found === null) return null;
  const size = head.size;
  const blocks = await blockHashes(tracker, size);
  const lastFirst = size - (size % BLOCK_LEAVES);
  const leafBlocks = new Map<number, Buffer>([[Math.floor(found.index / BLOCK_LEAVES), found.block]]);
  if (lastFirst < size && head.open !== null && !leafBlocks.has(lastFirst / BLOCK_LEAVES)) {
    leafBlocks.set(lastFirst / BLOCK_LEAVES, await blockLeaves(tracker, head.open, size - lastFirst));
  }
  const range = (a: number, b: number): Buffer => {
    if (a % BLOCK_LEAVES === 0 && b - a === BLOCK_LEAVES && blocks[a / BLOCK_LEAVES] !== undefined) return blocks[a / BLOCK_LEAVES] as Buffer;
    if (b - a === 1) {
      const leaves = leafBlocks.get(Math.floor(a / BLOCK_LEAVES));
      if (leaves === undefined || (a % BLOCK_LEAVES) >= leafCount(leaves)) throw new ConsentStoreError('the global log lacks a leaf its head counts: run verify()');
      return leafHashAt(leaves, a % BLOCK_LEAVES);
    }
    const k = splitPoint(b - a);
    return nodeHash(range(a, a + k), range(a + k, b));
  };
  const path = inclusionPath(found.index, size, range);
  const leaf = leafHash(found.block.subarray((found.index % BLOCK_LEAVES) * 40, (found.index % BLOCK_LEAVES) * 40 + 40));
  const root = rootFromPath(found.index, size, leaf, path);
  if (root === null || root.toString('hex') !== head.root) {
    throw new ConsentStoreError('the stored blocks of the global log do not lead to its sealed root: run verify()');
  }
  return { leafIndex: found.index, leafHash: leaf, path };
}

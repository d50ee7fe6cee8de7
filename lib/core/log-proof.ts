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

/** The stored hashes of the complete blocks `from` to `to` (exclusive), by index. */
async function blockHashes(tracker: LogReader, from: number, to: number): Promise<Map<number, Buffer>> {
  const hashes = new Map<number, Buffer>();
  for (let next = from; next < to; ) {
    const page = await tracker.logBlocks({ from: next, limit: Math.min(PAGE, to - next) });
    if (page.length === 0) break;
    for (const block of page) {
      if (block.index !== next) throw new ConsentStoreError('a block of the global log is missing: run verify()');
      hashes.set(next, Buffer.from(block.hash, 'hex'));
      next += 1;
    }
  }
  if (hashes.size < to - from) throw new ConsentStoreError('a block of the global log is missing: run verify()');
  return hashes;
}

// Subtrees kept: those of at least this many complete blocks (of 256 leaves), aligned as the
// tree's own subtrees are. A proof reads at most about twice this many blocks beyond them, and
// the cache holds about one hash per 2,048 events of the log (some 60 bytes per 1,000 events).
const CACHED_BLOCKS = 16;

/**
 * The hashes of large subtrees of the log's complete blocks, for the audit paths of later proofs.
 * Such a subtree's hash depends only on its leaves, which a sealed block never changes: the
 * proofs of a growing log share them, and read only the blocks around the proven leaf and those
 * added since (without it every proof read every block of the log). A store restored from an
 * older copy fails the root check; the proof is then built again from the store alone.
 */
export class SubtreeCache {
  private readonly hashes = new Map<number, Map<number, Buffer>>();

  /** Whether the range of leaves [a, b) is one the cache keeps, in a log of `complete` leaves in complete blocks. */
  static keeps(a: number, b: number, complete: number): boolean {
    const blocks = (b - a) / BLOCK_LEAVES;
    return b <= complete && a % (b - a) === 0 && Number.isInteger(blocks) && blocks >= CACHED_BLOCKS && (blocks & (blocks - 1)) === 0;
  }

  get(a: number, b: number): Buffer | undefined {
    return this.hashes.get(b - a)?.get(a);
  }

  set(a: number, b: number, hash: Buffer): void {
    let bySize = this.hashes.get(b - a);
    if (!bySize) this.hashes.set(b - a, (bySize = new Map<number, Buffer>()));
    bySize.set(a, hash);
  }

  clear(): void {
    this.hashes.clear();
  }
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
 * from the stored blocks the path needs (those of its siblings not in `cache`) and the leaves of
 * at most two blocks (the event's and the last, partly filled one). Null when the sealed tree
 * does not hold the event (yet).
 *
 * @throws ConsentStoreError when the stored blocks or leaves do not lead to the sealed root.
 */
export async function inclusionOf(tracker: LogReader, head: LogHead | null, id: string, hash: string, cache = new SubtreeCache()): Promise<Inclusion | null> {
  if (head === null || head.size === 0) return null;
  const found = await findLeaf(tracker, head, id, hash);
  if (found === null) return null;
  const size = head.size;
  const lastFirst = size - (size % BLOCK_LEAVES);
  const leafBlocks = new Map<number, Buffer>([[Math.floor(found.index / BLOCK_LEAVES), found.block]]);
  if (lastFirst < size && head.open !== null && !leafBlocks.has(lastFirst / BLOCK_LEAVES)) {
    leafBlocks.set(lastFirst / BLOCK_LEAVES, await blockLeaves(tracker, head.open, size - lastFirst));
  }
  const leaf = leafHash(found.block.subarray((found.index % BLOCK_LEAVES) * 40, (found.index % BLOCK_LEAVES) * 40 + 40));
  for (const cached of [cache, new SubtreeCache()]) {
    const path = await pathOf(tracker, found.index, size, leafBlocks, cached);
    const root = rootFromPath(found.index, size, leaf, path);
    if (root !== null && root.toString('hex') === head.root) return { leafIndex: found.index, leafHash: leaf, path };
    // Hashes kept from before a restore lead elsewhere: once more from the store alone.
    cache.clear();
  }
  throw new ConsentStoreError('the stored blocks of the global log do not lead to its sealed root: run verify()');
}

/** The audit path of leaf `index` in a tree of `size` leaves: subtrees from `cache`, the rest computed (and kept) from the stored blocks. */
async function pathOf(tracker: LogReader, index: number, size: number, leafBlocks: ReadonlyMap<number, Buffer>, cache: SubtreeCache): Promise<Buffer[]> {
  const complete = Math.floor(size / BLOCK_LEAVES) * BLOCK_LEAVES;
  // The complete blocks under the path's siblings that no kept subtree covers. The kept hashes
  // used are taken now: another proof may clear the cache while this one reads the blocks.
  const wanted: number[] = [];
  const used = new SubtreeCache();
  const want = (a: number, b: number): void => {
    const kept = cache.get(a, b);
    if (kept !== undefined) {
      used.set(a, b, kept);
      return;
    }
    if (a % BLOCK_LEAVES === 0 && b - a === BLOCK_LEAVES && b <= complete) wanted.push(a / BLOCK_LEAVES);
    else if (b - a > BLOCK_LEAVES || Math.floor(a / BLOCK_LEAVES) !== Math.floor((b - 1) / BLOCK_LEAVES)) {
      const k = splitPoint(b - a);
      want(a, a + k);
      want(a + k, b);
    }
  };
  inclusionPath(index, size, (a, b) => {
    want(a, b);
    return EMPTY_ROOT;
  });
  // Read run by run: the blocks beside the leaf and those at the log's end lie far apart.
  const blocks = new Map<number, Buffer>();
  wanted.sort((x, y) => x - y);
  for (let i = 0; i < wanted.length; ) {
    let j = i + 1;
    while (j < wanted.length && (wanted[j] as number) === (wanted[j - 1] as number) + 1) j += 1;
    for (const [at, hash] of await blockHashes(tracker, wanted[i] as number, (wanted[j - 1] as number) + 1)) blocks.set(at, hash);
    i = j;
  }
  const range = (a: number, b: number): Buffer => {
    const kept = used.get(a, b);
    if (kept !== undefined) return kept;
    if (a % BLOCK_LEAVES === 0 && b - a === BLOCK_LEAVES && blocks.has(a / BLOCK_LEAVES)) return blocks.get(a / BLOCK_LEAVES) as Buffer;
    if (b - a === 1) {
      const leaves = leafBlocks.get(Math.floor(a / BLOCK_LEAVES));
      if (leaves === undefined || (a % BLOCK_LEAVES) >= leafCount(leaves)) throw new ConsentStoreError('the global log lacks a leaf its head counts: run verify()');
      return leafHashAt(leaves, a % BLOCK_LEAVES);
    }
    const k = splitPoint(b - a);
    const hash = nodeHash(range(a, a + k), range(a + k, b));
    if (SubtreeCache.keeps(a, b, complete)) cache.set(a, b, hash);
    return hash;
  };
  return inclusionPath(index, size, range);
}

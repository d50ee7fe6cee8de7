import { LEAF_BYTES } from './log-leaf';
import { BLOCK_HEIGHT, BLOCK_LEAVES } from './log-seal';
import { EMPTY_ROOT } from './merkle';
import { HASH_WORDS, hexWords, leafHashWords, nodeHashWords, wordsHex } from './sha256-words';

/**
 * Where the log's tree stands after some leaves, as plain data (it crosses to and from a
 * worker thread): the frontier, the roots found at the sizes asked for, and the complete blocks
 * of the sealed tree computed since the previous snapshot.
 */
export interface TreeSnapshot {
  size: number;
  /** The frontier's subtree roots, largest first, in hex. */
  subtrees: string[];
  /** The root of the first `sealedSize` leaves, once that many were pushed. */
  sealedRoot: string | null;
  /** The root of the first `claimSize` leaves, once that many were pushed. */
  claimedRoot: string | null;
  /** [block index, hash in hex] of each complete block of the sealed tree. */
  blocks: Array<[number, string]>;
}

/** The sizes whose roots a check needs: the sealed head's, and a checkpoint's (or null). */
export interface TreeSizes {
  sealedSize: number;
  claimSize: number | null;
}

// Room for a subtree per height (a log holds fewer than 2^53 leaves) and a scratch hash.
const SLOTS = 54;
const SCRATCH = SLOTS * HASH_WORDS;

/**
 * The log's tree recomputed from its leaves in order, keeping what verification compares:
 * the roots at two sizes and the hash of each complete block of the sealed tree. The same
 * code runs in-process and in a worker thread, so both give the same answer. The frontier
 * (the roots of the complete subtrees, largest first: `Frontier` of merkle.ts) is kept as
 * words, hashed by `sha256-words`. Pure.
 */
export class TreeState {
  private readonly words = new Int32Array(SCRATCH + HASH_WORDS);
  /** Height of each subtree of the frontier, largest first; subtree k's hash is at words[8k]. */
  private readonly heights: number[] = [];
  private count: number;
  private sealedRoot: string | null;
  private claimedRoot: string | null;
  private blocks: Array<[number, string]> = [];

  constructor(private readonly sizes: TreeSizes, from?: TreeSnapshot) {
    const size = from?.size ?? 0;
    for (let bit = 52; bit >= 0; bit -= 1) if (Math.floor(size / 2 ** bit) % 2 === 1) this.heights.push(bit);
    const subtrees = from?.subtrees ?? [];
    if (subtrees.length !== this.heights.length) throw new Error('TreeState: the subtrees do not match the size');
    subtrees.forEach((hex, k) => { hexWords(hex, this.words, k * HASH_WORDS); });
    this.count = size;
    this.sealedRoot = from?.sealedRoot ?? null;
    this.claimedRoot = from?.claimedRoot ?? null;
    if (size === sizes.sealedSize) this.sealedRoot ??= this.rootHex();
    if (size === sizes.claimSize) this.claimedRoot ??= this.rootHex();
  }

  /** Leaves so far. */
  get size(): number {
    return this.count;
  }

  /** Appends leaves [from, to) of `leaves` (40 bytes each). */
  push(leaves: Buffer, from: number, to: number): void {
    const { sealedSize, claimSize } = this.sizes;
    const { words, heights } = this;
    for (let i = from; i < to; i += 1) {
      let slot = heights.length;
      leafHashWords(leaves, i * LEAF_BYTES, words, slot * HASH_WORDS);
      let height = 0;
      this.count += 1;
      while (slot > 0 && heights[slot - 1] === height) {
        heights.pop();
        slot -= 1;
        nodeHashWords(words, slot * HASH_WORDS, (slot + 1) * HASH_WORDS, words, slot * HASH_WORDS);
        height += 1;
        if (height === BLOCK_HEIGHT) {
          const first = this.count - BLOCK_LEAVES;
          if (first + BLOCK_LEAVES <= sealedSize) this.blocks.push([first / BLOCK_LEAVES, wordsHex(words, slot * HASH_WORDS)]);
        }
      }
      heights.push(height);
      if (this.count === sealedSize) this.sealedRoot = this.rootHex();
      if (this.count === claimSize) this.claimedRoot = this.rootHex();
    }
  }

  /** The state as data; the blocks listed are those found since the previous snapshot. */
  snapshot(): TreeSnapshot {
    const blocks = this.blocks;
    this.blocks = [];
    return {
      size: this.count,
      subtrees: this.heights.map((_, k) => wordsHex(this.words, k * HASH_WORDS)),
      sealedRoot: this.sealedRoot,
      claimedRoot: this.claimedRoot,
      blocks,
    };
  }

  /** The root: the subtrees folded from the right (the hash of nothing for an empty tree). */
  private rootHex(): string {
    const n = this.heights.length;
    if (n === 0) return EMPTY_ROOT.toString('hex');
    const { words } = this;
    words.copyWithin(SCRATCH, (n - 1) * HASH_WORDS, n * HASH_WORDS);
    for (let k = n - 2; k >= 0; k -= 1) nodeHashWords(words, k * HASH_WORDS, SCRATCH, words, SCRATCH);
    return wordsHex(words, SCRATCH);
  }
}

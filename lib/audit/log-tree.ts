import { leafHashAt } from './log-leaf';
import { BLOCK_HEIGHT, BLOCK_LEAVES } from './log-seal';
import { Frontier } from './merkle';

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

/**
 * The log's tree recomputed from its leaves in order, keeping what verification compares:
 * the roots at two sizes and the hash of each complete block of the sealed tree. The same
 * code runs in-process and in a worker thread, so both give the same answer. Pure.
 */
export class TreeState {
  private readonly frontier: Frontier;
  private sealedRoot: string | null;
  private claimedRoot: string | null;
  private blocks: Array<[number, string]> = [];
  private readonly keepBlock: (height: number, hash: Buffer, first: number) => void;

  constructor(private readonly sizes: TreeSizes, from?: TreeSnapshot) {
    this.frontier = from === undefined ? new Frontier() : new Frontier(from.size, from.subtrees.map((h) => Buffer.from(h, 'hex')));
    this.sealedRoot = from?.sealedRoot ?? null;
    this.claimedRoot = from?.claimedRoot ?? null;
    this.keepBlock = (height, hash, first) => {
      if (height === BLOCK_HEIGHT && first + BLOCK_LEAVES <= sizes.sealedSize) this.blocks.push([first / BLOCK_LEAVES, hash.toString('hex')]);
    };
    if (this.frontier.size === sizes.sealedSize) this.sealedRoot ??= this.rootHex();
    if (this.frontier.size === sizes.claimSize) this.claimedRoot ??= this.rootHex();
  }

  /** Leaves so far. */
  get size(): number {
    return this.frontier.size;
  }

  /** Appends leaves [from, to) of `leaves` (40 bytes each). */
  push(leaves: Buffer, from: number, to: number): void {
    const { sealedSize, claimSize } = this.sizes;
    for (let i = from; i < to; i += 1) {
      this.frontier.push(leafHashAt(leaves, i), this.keepBlock);
      const size = this.frontier.size;
      if (size === sealedSize) this.sealedRoot = this.rootHex();
      if (size === claimSize) this.claimedRoot = this.rootHex();
    }
  }

  /** The state as data; the blocks listed are those found since the previous snapshot. */
  snapshot(): TreeSnapshot {
    const blocks = this.blocks;
    this.blocks = [];
    return {
      size: this.frontier.size,
      subtrees: this.frontier.subtrees.map((h) => h.toString('hex')),
      sealedRoot: this.sealedRoot,
      claimedRoot: this.claimedRoot,
      blocks,
    };
  }

  private rootHex(): string {
    return this.frontier.root().toString('hex');
  }
}

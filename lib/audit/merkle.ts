import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';

/*
 * A Merkle tree in the style of RFC 9162 §2.1 over SHA-256: the hash of a leaf is
 * H(0x00 ‖ leaf), of an inner node H(0x01 ‖ left ‖ right); a tree of n leaves splits at the
 * largest power of two below n. Pure.
 */

const oneShot = (crypto as { hash?: typeof crypto.hash }).hash;

// Prefix and input in one buffer, reused: the tree hashes two small inputs per leaf, and a
// concatenation per hash cost more than the hash itself.
const leafInput = Buffer.alloc(1 + 64);
const nodeInput = Buffer.alloc(1 + 64);
nodeInput[0] = 1;

function sha256(input: Buffer): Buffer {
  if (oneShot !== undefined) return oneShot('sha256', input, 'buffer');
  return createHash('sha256').update(input).digest();
}

/** H(0x00 ‖ leaf). */
export function leafHash(leaf: Buffer): Buffer {
  if (leaf.length > 64) return sha256(Buffer.concat([Buffer.from([0]), leaf]));
  leaf.copy(leafInput, 1);
  return sha256(leafInput.subarray(0, 1 + leaf.length));
}

/** H(0x01 ‖ left ‖ right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  left.copy(nodeInput, 1);
  right.copy(nodeInput, 33);
  return sha256(nodeInput);
}

/** The hash of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** The largest power of two strictly below `n` (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The root of a tree whose leaf hashes are given (RFC 9162 MTH, from hashed leaves). */
export function rootOf(leafHashes: readonly Buffer[]): Buffer {
  if (leafHashes.length === 0) return EMPTY_ROOT;
  const frontier = new Frontier();
  for (const h of leafHashes) frontier.push(h);
  return frontier.root();
}

/**
 * The right edge of a tree being built leaf by leaf: the roots of its complete subtrees, largest
 * first, each with its height. Holds at most one subtree per height, so about log2(n) hashes.
 */
export class Frontier {
  private readonly hashes: Buffer[];
  private readonly heights: number[];
  private count: number;

  constructor(size = 0, subtrees: readonly Buffer[] = []) {
    const heights: number[] = [];
    for (let bit = 52; bit >= 0; bit -= 1) if (Math.floor(size / 2 ** bit) % 2 === 1) heights.push(bit);
    if (heights.length !== subtrees.length) throw new Error('Frontier: the subtrees do not match the size');
    this.count = size;
    this.hashes = [...subtrees];
    this.heights = heights;
  }

  /** Leaves so far. */
  get size(): number {
    return this.count;
  }

  /** The roots of the complete subtrees, largest first (what is stored with the tree head). */
  get subtrees(): readonly Buffer[] {
    return this.hashes;
  }

  /**
   * Appends a leaf hash. `onSubtree(height, hash, firstLeaf)` sees every complete subtree as it
   * forms (for example the blocks kept for proofs).
   */
  push(hash: Buffer, onSubtree?: (height: number, hash: Buffer, firstLeaf: number) => void): void {
    let h = hash;
    let height = 0;
    this.count += 1;
    while (this.heights.length > 0 && this.heights[this.heights.length - 1] === height) {
      this.heights.pop();
      h = nodeHash(this.hashes.pop() as Buffer, h);
      height += 1;
      onSubtree?.(height, h, this.count - 2 ** height);
    }
    this.hashes.push(h);
    this.heights.push(height);
  }

  /** The tree's root: the subtrees folded from the right. */
  root(): Buffer {
    if (this.hashes.length === 0) return EMPTY_ROOT;
    let h = this.hashes[this.hashes.length - 1] as Buffer;
    for (let i = this.hashes.length - 2; i >= 0; i -= 1) h = nodeHash(this.hashes[i] as Buffer, h);
    return h;
  }
}

/**
 * The root of leaves [a, b), from `hashOf(a, b)` for the ranges it can answer directly (a
 * stored block, a single leaf), else by splitting as RFC 9162 does.
 */
export type RangeHash = (a: number, b: number) => Buffer;

/**
 * The audit path of leaf `index` in the tree of its first `size` leaves (RFC 9162 §2.1.3.1),
 * nearest sibling first. `range(a, b)` gives the root of leaves [a, b).
 *
 * @throws RangeError when `index` is not below `size`.
 */
export function inclusionPath(index: number, size: number, range: RangeHash): Buffer[] {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
    throw new RangeError('inclusionPath: the index must be below the size');
  }
  const path: Buffer[] = [];
  let [lo, hi] = [0, size];
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index - lo < k) {
      path.push(range(lo + k, hi));
      hi = lo + k;
    } else {
      path.push(range(lo, lo + k));
      lo += k;
    }
  }
  return path.reverse();
}

/**
 * The root that an audit path leads to from a leaf hash (RFC 9162 §2.1.3.2), or null when the
 * path cannot belong to leaf `index` of a tree of `size` leaves.
 */
export function rootFromPath(index: number, size: number, leaf: Buffer, path: readonly Buffer[]): Buffer | null {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

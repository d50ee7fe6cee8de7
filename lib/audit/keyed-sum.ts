import { createCipheriv, type Cipher } from 'node:crypto';
import { LEAF_BYTES, writeLeaf, type LeafSource } from './log-leaf';

const PAGE = 1024;

/**
 * An order-free digest of a multiset of leaves under a secret key: the sum, modulo 2^128, of
 * each leaf's AES-256 CBC-MAC (three blocks, the last padded with zeros: a pseudorandom function
 * on inputs of one fixed length). Two collections give the same sum only when they hold the
 * same leaves the same number of times; without the key nobody can choose leaves that cancel
 * each other out, as they could in an unkeyed sum. Leaves are buffered and enciphered a page at
 * a time, three cipher calls per page.
 */
export class KeyedSum {
  private readonly cipher: Cipher;
  private readonly lanes = new Uint32Array(4);
  private readonly blocks = [Buffer.alloc(PAGE * 16), Buffer.alloc(PAGE * 16), Buffer.alloc(PAGE * 16)] as const;
  private readonly scratch = Buffer.alloc(LEAF_BYTES);
  private pending = 0;
  private items = 0;

  constructor(key: Buffer) {
    this.cipher = createCipheriv('aes-256-ecb', key, null);
    this.cipher.setAutoPadding(false);
  }

  /** Leaves added. */
  get count(): number {
    return this.items;
  }

  /** Adds one 40-byte leaf. */
  add(leaf: Buffer): void {
    const at = this.pending * 16;
    leaf.copy(this.blocks[0], at, 0, 16);
    leaf.copy(this.blocks[1], at, 16, 32);
    this.blocks[2].fill(0, at, at + 16);
    leaf.copy(this.blocks[2], at, 32, LEAF_BYTES);
    this.pending += 1;
    this.items += 1;
    if (this.pending === PAGE) this.flush();
  }

  /** Adds the leaf of one event. */
  addEvent(event: LeafSource): void {
    writeLeaf(this.scratch, 0, event);
    this.add(this.scratch);
  }

  /** The digest of everything added, as hex. */
  digest(): string {
    this.flush();
    return Array.from(this.lanes, (lane) => lane.toString(16).padStart(8, '0')).join('');
  }

  private flush(): void {
    const n = this.pending;
    if (n === 0) return;
    this.pending = 0;
    const bytes = n * 16;
    let chained = this.cipher.update(this.blocks[0].subarray(0, bytes));
    for (const next of [this.blocks[1], this.blocks[2]]) {
      for (let i = 0; i < bytes; i += 1) next[i] = (next[i] as number) ^ (chained[i] as number);
      chained = this.cipher.update(next.subarray(0, bytes));
    }
    const lanes = this.lanes;
    for (let i = 0; i < n; i += 1) {
      let carry = 0;
      for (let lane = 3; lane >= 0; lane -= 1) {
        const sum = (lanes[lane] as number) + chained.readUInt32BE(i * 16 + lane * 4) + carry;
        lanes[lane] = sum >>> 0;
        carry = sum > 0xffffffff ? 1 : 0;
      }
    }
  }
}

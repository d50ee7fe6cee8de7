import { createCipheriv, type Cipher } from 'node:crypto';
import { LEAF_BYTES, writeLeaf, type LeafSource } from './log-leaf';

const PAGE = 1024;
/** Hex digit values by character code (lower case, as hashes are stored); 16 for anything else. */
const NIBBLE = new Uint8Array(65536).fill(16);
for (let i = 0; i < 16; i += 1) NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;

/** 32-bit words of a buffer (copied first if it does not start on a 4-byte boundary). */
function words(buffer: Buffer): Uint32Array {
  let b = buffer;
  if (b.byteOffset % 4 !== 0) {
    b = Buffer.alloc(buffer.length);
    buffer.copy(b);
  }
  return new Uint32Array(b.buffer, b.byteOffset, b.length / 4);
}

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
  /** The page's leaves split into their three blocks (the third's last 8 bytes stay zero). */
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
    this.addAt(leaf, 0);
  }

  /** Adds the 40-byte leaf at `offset` of `leaves`. */
  addAt(leaves: Buffer, offset: number): void {
    const at = this.pending * 16;
    const [b0, b1, b2] = this.blocks;
    // Byte loops: three Buffer.copy calls per leaf cost more than the copying itself.
    for (let i = 0; i < 16; i += 1) {
      b0[at + i] = leaves[offset + i] as number;
      b1[at + i] = leaves[offset + 16 + i] as number;
    }
    for (let i = 0; i < 8; i += 1) b2[at + i] = leaves[offset + 32 + i] as number;
    this.pending += 1;
    this.items += 1;
    if (this.pending === PAGE) this.flush();
  }

  /** Adds the leaf of one event (as `encodeLeaves` writes it). */
  addEvent(event: LeafSource): void {
    const n = Number(event.id);
    const hash = event.hash;
    if (!(Number.isSafeInteger(n) && n > 0 && n < 2 ** 48 && hash.length === 64)) {
      this.addSlow(event);
      return;
    }
    // The common case written directly: the id's eight bytes, then the hash decoded by table
    // (into the page's free slot: a digit that is not lower-case hex leaves it free again).
    const at = this.pending * 16;
    const [b0, b1, b2] = this.blocks;
    b0[at] = 0;
    b0[at + 1] = 0;
    let rest = n;
    for (let i = 7; i >= 2; i -= 1) {
      b0[at + i] = rest % 256;
      rest = Math.floor(rest / 256);
    }
    let bad = 0;
    for (let i = 0; i < 32; i += 1) {
      const high = NIBBLE[hash.charCodeAt(2 * i)] as number;
      const low = NIBBLE[hash.charCodeAt(2 * i + 1)] as number;
      bad |= high | low;
      const byte = ((high << 4) | low) & 0xff;
      if (i < 8) b0[at + 8 + i] = byte;
      else if (i < 24) b1[at + i - 8] = byte;
      else b2[at + i - 24] = byte;
    }
    if (bad > 15) {
      this.addSlow(event);
      return;
    }
    this.pending += 1;
    this.items += 1;
    if (this.pending === PAGE) this.flush();
  }

  /** The leaf of an event as `encodeLeaves` writes it, for what the common case does not cover. */
  private addSlow(event: LeafSource): void {
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
    // CBC by hand, a page at a time: each block is XORed with the previous ciphertext, 32 bits at once.
    let chained = this.cipher.update(this.blocks[0].subarray(0, bytes));
    for (const block of [this.blocks[1], this.blocks[2]]) {
      const input = Buffer.alloc(bytes);
      const a = words(input);
      const b = words(block.subarray(0, bytes));
      const c = words(chained);
      for (let i = 0; i < a.length; i += 1) a[i] = (b[i] as number) ^ (c[i] as number);
      chained = this.cipher.update(input);
    }
    const out = words(chained);
    const lanes = this.lanes;
    for (let i = 0; i < out.length; i += 4) {
      let carry = 0;
      for (let lane = 3; lane >= 0; lane -= 1) {
        const sum = (lanes[lane] as number) + (out[i + lane] as number) + carry;
        lanes[lane] = sum >>> 0;
        carry = sum > 0xffffffff ? 1 : 0;
      }
    }
  }
}

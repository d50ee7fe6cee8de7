import type { HmacBatch } from '../audit/hmac-pool';

/*
 * Texts and the HMACs they should have, gathered into buffers a checking thread takes over
 * (`HmacPool.check`). The thread's verdict of 1 vouches for a text: the caller computes only the
 * HMACs of the texts that were left out or got no such verdict.
 */

// The texts of the batch being built, before they are copied out at their exact size: batches
// are built one at a time, synchronously, so one buffer serves them all. Made by the first
// batch; one grown past four times its size (very long texts) is let go after its batch.
const SCRATCH_BYTES = 1 << 20;
let scratch: Buffer | null = null;

export class BatchWriter {
  readonly ends: Uint32Array;
  readonly expected: Buffer;
  /** 1 for each item whose text and HMAC went into the batch: only those can be vouched for. */
  readonly added: Uint8Array;
  /** The shared buffer (this batch's own once grown), and the end of what is written in it. */
  private buffer: Buffer;
  private at = 0;

  /** A batch of `count` items, each to match `digits` hex digits (64, or 32 for a truncated seal). */
  constructor(count: number, private readonly digits: number) {
    scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES);
    this.buffer = scratch;
    this.ends = new Uint32Array(count);
    // Unpooled (its own ArrayBuffer, handed over to the thread) and not zeroed: only what is
    // written is read.
    this.expected = Buffer.allocUnsafeSlow(count * 64);
    this.added = new Uint8Array(count);
  }

  /**
   * Item `i`: `text` must have the HMAC `hex` starts with. Left out (false) when there is no
   * text or `hex` is not `digits` ASCII digits: its check is then the caller's.
   */
  add(i: number, text: string | undefined, hex: unknown): boolean {
    const added = text !== undefined && this.expects(i, hex);
    if (added) {
      this.room(text.length * 3);
      this.at += this.buffer.write(text, this.at, 'utf8');
    }
    return this.end(i, added);
  }

  /** Item `i` as `add`, its text the bytes of `from` between `start` and `end`. */
  addBytes(i: number, from: Uint8Array, start: number, end: number, hex: unknown): boolean {
    const added = this.expects(i, hex);
    if (added) {
      this.room(end - start);
      this.buffer.set(from.subarray(start, end), this.at);
      this.at += end - start;
    }
    return this.end(i, added);
  }

  /**
   * Ends item `i`. One left out gets an empty text and zero bytes for its HMAC, which no hex
   * digest matches: a thread never vouches for what it was not given, whatever the memory held.
   */
  private end(i: number, added: boolean): boolean {
    if (added) this.added[i] = 1;
    else this.expected.fill(0, i * 64, i * 64 + 64);
    this.ends[i] = this.at;
    return added;
  }

  /** The batch for key `key` of the pool, its texts copied out of the shared buffer (a message copies a view's whole buffer). */
  done(key = 0): Omit<HmacBatch, 'id'> {
    const texts = Buffer.allocUnsafeSlow(this.at);
    this.buffer.copy(texts, 0, 0, this.at);
    if (this.buffer.length > 4 * SCRATCH_BYTES) scratch = null;
    return { key, texts, ends: this.ends, expected: this.expected, digits: this.digits };
  }

  private expects(i: number, hex: unknown): boolean {
    if (typeof hex !== 'string' || hex.length !== this.digits || Buffer.byteLength(hex) !== this.digits) return false;
    this.expected.write(hex, i * 64, 'latin1');
    return true;
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
    scratch = grown;
  }
}

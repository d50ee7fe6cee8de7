import { eventHashInput, GENESIS } from '../audit/chain';
import { headSealInput } from '../audit/head-seal';
import { HmacPool, hmacWorkers, type HmacBatch } from '../audit/hmac-pool';
import type { ChainVerifier } from '../audit/verify-chain';
import type { SealedHead, StoredEvent } from '../tracker/records';

/** A page's batch, and which of its items are in it (a previous hash for an event, '' for a head). */
interface PageBatch {
  batch: Omit<HmacBatch, 'id'>;
  previous: Array<string | undefined>;
}

// The texts of the batch being built, before they are copied out at their exact size: batches
// are built one at a time, synchronously, so one buffer serves them all. Made by the first
// batch; one grown past four times its size (very long texts) is let go after its batch.
const SCRATCH_BYTES = 1 << 20;
let scratch: Buffer | null = null;

/** Texts and the hex each one's HMAC should start with, gathered into buffers a thread takes over. */
class BatchWriter {
  readonly ends: Uint32Array;
  readonly expected: Buffer;
  readonly previous: Array<string | undefined>;
  /** The shared buffer (this batch's own once grown), and the end of what is written in it. */
  private buffer: Buffer;
  private at = 0;

  constructor(count: number) {
    scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES);
    this.buffer = scratch;
    this.ends = new Uint32Array(count);
    // Unpooled (its own ArrayBuffer, handed over to the thread) and not zeroed: only what is
    // written is read.
    this.expected = Buffer.allocUnsafeSlow(count * 64);
    this.previous = new Array<string | undefined>(count);
  }

  /** Item `i`: `text` must have the HMAC `hex` starts with (ASCII only: else it is left to the check). */
  add(i: number, text: string | undefined, hex: string, digits: number, previous: string): void {
    if (text !== undefined && hex.length === digits && Buffer.byteLength(hex) === digits) {
      if (this.at + text.length * 3 > this.buffer.length) {
        const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + text.length * 3));
        this.buffer.copy(grown, 0, 0, this.at);
        this.buffer = grown;
        scratch = grown;
      }
      this.at += this.buffer.write(text, this.at, 'utf8');
      this.expected.write(hex, i * 64, 'latin1');
      this.previous[i] = previous;
    }
    this.ends[i] = this.at;
  }

  /** The batch, its texts copied out of the shared buffer (a message copies a view's whole buffer). */
  done(digits: number): PageBatch {
    const texts = Buffer.allocUnsafeSlow(this.at);
    this.buffer.copy(texts, 0, 0, this.at);
    if (this.buffer.length > 4 * SCRATCH_BYTES) scratch = null;
    return { batch: { texts, ends: this.ends, expected: this.expected, digits }, previous: this.previous };
  }
}

/** A text, or undefined for a value the canonical encoding refuses (the check reports it as it finds it). */
function attempt(build: () => string): string | undefined {
  try {
    return build();
  } catch {
    return undefined;
  }
}

/**
 * The texts of a page's event hashes, each with the hash of the event read just before it as
 * the predecessor's (the genesis for a chain's first event): what the chains' check computes
 * for an intact chain. An event that does not follow the one before it is left to the check.
 */
function eventBatch(key: Buffer, page: readonly StoredEvent[], before: StoredEvent | undefined): PageBatch {
  const writer = new BatchWriter(page.length);
  let last = before;
  for (let i = 0; i < page.length; i += 1) {
    const event = page[i] as StoredEvent;
    const prior = event.prevId === null ? GENESIS
      : last !== undefined && last.chain === event.chain && last.seq === event.seq - 1 ? last.hash : undefined;
    last = event;
    writer.add(i, prior === undefined ? undefined : attempt(() => eventHashInput(key, prior, event)), event.hash, 64, prior ?? '');
  }
  return writer.done(64);
}

/** The texts of a page's head seals (each over the head and its records). */
function headBatch(page: readonly SealedHead[]): PageBatch {
  const writer = new BatchWriter(page.length);
  for (let i = 0; i < page.length; i += 1) {
    const head = page[i] as SealedHead;
    writer.add(i, attempt(() => headSealInput(head, head.records)), head.mac, 32, '');
  }
  return writer.done(32);
}

/** The worker threads of one check, started once its streams have read more than a small store holds. */
export class CheckThreads {
  private pool: HmacPool | null = null;
  private tried = false;
  private read = 0;

  constructor(private readonly key: Buffer) {}

  /** The pool after `count` more items were read, or null (a small store so far, or no threads to have). */
  after(count: number): HmacPool | null {
    this.read += count;
    if (!this.tried && this.read > hmacWorkers.minEvents) {
      this.tried = true;
      this.pool = HmacPool.start(this.key);
    }
    return this.pool;
  }

  close(): void {
    this.pool?.close();
  }
}

/**
 * Pages passed on in order while worker threads check the HMACs of the pages read next:
 * each item a thread confirmed is vouched for before its page is passed on, so the main
 * thread computes only what the threads did not confirm. Without threads (or when a batch
 * gets no answer) every HMAC is computed by the check, as before.
 */
async function* checkedAhead<T>(
  pages: AsyncIterable<T[]>,
  threads: CheckThreads,
  batchOf: (page: T[], before: T | undefined) => PageBatch,
  vouch: (item: T, previous: string) => void,
): AsyncGenerator<T[]> {
  let before: T | undefined;
  const queue: Array<{ page: T[]; previous: Array<string | undefined>; verdicts: Promise<Uint8Array | null> }> = [];
  const settle = async (item: (typeof queue)[number]): Promise<T[]> => {
    const verdicts = await item.verdicts;
    if (verdicts !== null) {
      for (let i = 0; i < item.page.length; i += 1) {
        const previous = item.previous[i];
        if (verdicts[i] === 1 && previous !== undefined) vouch(item.page[i] as T, previous);
      }
    }
    return item.page;
  };
  for await (const page of pages) {
    const pool = threads.after(page.length);
    if (pool === null) {
      yield page;
    } else {
      const { batch, previous } = batchOf(page, before);
      queue.push({ page, previous, verdicts: pool.check(batch) });
      // One page more than there are threads in flight: each has work while the check runs.
      if (queue.length > hmacWorkers.size) yield await settle(queue.shift() as (typeof queue)[number]);
    }
    before = page[page.length - 1];
  }
  while (queue.length > 0) yield await settle(queue.shift() as (typeof queue)[number]);
}

/** Event pages whose hashes threads check ahead (see `checkedAhead`). */
export function eventsAhead(pages: AsyncIterable<StoredEvent[]>, key: Buffer, verifier: ChainVerifier, threads: CheckThreads): AsyncGenerator<StoredEvent[]> {
  return checkedAhead(pages, threads, (page, before) => eventBatch(key, page, before), (event, previous) => { verifier.vouch(event, previous); });
}

/** Head pages whose seals threads check ahead (see `checkedAhead`). */
export function headsAhead(pages: AsyncIterable<SealedHead[]>, verifier: ChainVerifier, threads: CheckThreads): AsyncGenerator<SealedHead[]> {
  return checkedAhead(pages, threads, (page) => headBatch(page), (head) => { verifier.vouchHead(head); });
}

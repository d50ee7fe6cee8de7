import { eventHashInput, GENESIS } from '../audit/chain';
import { headSealInput } from '../audit/head-seal';
import { HmacPool, hmacWorkers, type HmacBatch } from '../audit/hmac-pool';
import type { ChainVerifier } from '../audit/verify-chain';
import type { SealedHead, StoredEvent } from '../tracker/records';
import { BatchWriter } from './hmac-batch';

/** A page's batch, and which of its items are in it (a previous hash for an event, '' for a head). */
interface PageBatch {
  batch: Omit<HmacBatch, 'id'>;
  previous: Array<string | undefined>;
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
  const writer = new BatchWriter(page.length, 64);
  const previous = new Array<string | undefined>(page.length);
  let last = before;
  for (let i = 0; i < page.length; i += 1) {
    const event = page[i] as StoredEvent;
    const prior = event.prevId === null ? GENESIS
      : last !== undefined && last.chain === event.chain && last.seq === event.seq - 1 ? last.hash : undefined;
    last = event;
    const text = prior === undefined ? undefined : attempt(() => eventHashInput(key, prior, event));
    if (writer.add(i, text, event.hash)) previous[i] = prior;
  }
  return { batch: writer.done(), previous };
}

/** The texts of a page's head seals (each over the head and its records). */
function headBatch(page: readonly SealedHead[]): PageBatch {
  const writer = new BatchWriter(page.length, 32);
  const previous = new Array<string | undefined>(page.length);
  for (let i = 0; i < page.length; i += 1) {
    const head = page[i] as SealedHead;
    if (writer.add(i, attempt(() => headSealInput(head, head.records)), head.mac)) previous[i] = '';
  }
  return { batch: writer.done(), previous };
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
      this.pool = HmacPool.start([this.key]);
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

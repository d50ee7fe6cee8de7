import { eventHashInput, GENESIS } from '../audit/chain';
import { HmacPool, hmacWorkers, type HmacBatch } from '../audit/hmac-pool';
import type { ChainVerifier } from '../audit/verify-chain';
import type { StoredEvent } from '../tracker/records';

/** A page's batch, and the previous hash each event's text was built with (undefined: not in the batch). */
interface PageBatch {
  batch: Omit<HmacBatch, 'id'>;
  previous: Array<string | undefined>;
}

/**
 * The texts of a page's event hashes, each with the hash of the event read just before it as
 * the predecessor's (the genesis for a chain's first event): what the chains' check computes
 * for an intact chain. An event that does not follow the one before it, or whose stored hash
 * is not 64 ASCII characters, is left to the check itself.
 */
function batchOf(key: Buffer, page: readonly StoredEvent[], before: StoredEvent | undefined): PageBatch {
  const ends = new Uint32Array(page.length);
  const expected = Buffer.from(new ArrayBuffer(page.length * 64));
  const previous: Array<string | undefined> = new Array<string | undefined>(page.length);
  let texts = Buffer.from(new ArrayBuffer(page.length * 1024));
  let at = 0;
  let last = before;
  for (let i = 0; i < page.length; i += 1) {
    const event = page[i] as StoredEvent;
    const prior = event.prevId === null ? GENESIS
      : last !== undefined && last.chain === event.chain && last.seq === event.seq - 1 ? last.hash : undefined;
    last = event;
    if (prior !== undefined && event.hash.length === 64 && Buffer.byteLength(event.hash) === 64) {
      let text: string | undefined;
      try {
        text = eventHashInput(key, prior, event);
      } catch {
        // A value the canonical encoding refuses: the check reports it as it finds it.
      }
      if (text !== undefined) {
        if (at + text.length * 3 > texts.length) {
          const grown = Buffer.from(new ArrayBuffer(Math.max(texts.length * 2, at + text.length * 3)));
          texts.copy(grown, 0, 0, at);
          texts = grown;
        }
        at += texts.write(text, at, 'utf8');
        expected.write(event.hash, i * 64, 'latin1');
        previous[i] = prior;
      }
    }
    ends[i] = at;
  }
  return { batch: { texts, ends, expected }, previous };
}

/**
 * The event pages of a whole-store check, passed on in order while worker threads (an
 * `HmacPool`, once the store proves large) check the hashes of the pages read next: each
 * event a thread found intact is vouched for to `verifier` before its page is passed on, so
 * the main thread computes only what the threads did not confirm. Without threads (or when a
 * batch gets no answer) every hash is computed by the check, as before. The pool is also
 * put in `threads`, for the caller to stop should the check end early.
 */
export async function* hashedAhead(
  pages: AsyncIterable<StoredEvent[]>,
  key: Buffer,
  verifier: ChainVerifier,
  threads: { pool: HmacPool | null } = { pool: null },
): AsyncGenerator<StoredEvent[]> {
  let pool: HmacPool | null = null;
  let tried = false;
  let read = 0;
  let before: StoredEvent | undefined;
  const queue: Array<{ page: StoredEvent[]; previous: Array<string | undefined>; verdicts: Promise<Uint8Array | null> }> = [];
  const settle = async (item: (typeof queue)[number]): Promise<StoredEvent[]> => {
    const verdicts = await item.verdicts;
    if (verdicts !== null) {
      for (let i = 0; i < item.page.length; i += 1) {
        const previous = item.previous[i];
        if (verdicts[i] === 1 && previous !== undefined) verifier.vouch(item.page[i] as StoredEvent, previous);
      }
    }
    return item.page;
  };
  try {
    for await (const page of pages) {
      read += page.length;
      if (!tried && read > hmacWorkers.minEvents) {
        tried = true;
        pool = HmacPool.start(key);
        threads.pool = pool;
      }
      if (pool === null) {
        yield page;
      } else {
        const { batch, previous } = batchOf(key, page, before);
        queue.push({ page, previous, verdicts: pool.check(batch) });
        // One page more than there are threads in flight: each has work while the check runs.
        if (queue.length > hmacWorkers.size) yield await settle(queue.shift() as (typeof queue)[number]);
      }
      before = page[page.length - 1];
    }
    while (queue.length > 0) yield await settle(queue.shift() as (typeof queue)[number]);
  } finally {
    pool?.close();
  }
}

import { performance } from 'node:perf_hooks';
import { snapshotSealInput } from '../audit/head-seal';
import { HmacPool, hmacWorkers } from '../audit/hmac-pool';
import type { DerivedKeys } from '../audit/keys';
import { decryptedPage, isAscii } from '../audit/subject-keystream';
import type { AudienceEntry } from '../tracker/audience-capability';
import { BatchWriter } from './hmac-batch';

/*
 * Audience pages whose keyed hashes worker threads check while the main thread judges the pages
 * before them: each subject's head seal (under the chain key) and the keyed pseudonym of what
 * its stored id decrypts to (under the pseudonym key). A thread's verdict only spares the main
 * thread an HMAC it would compute the same way; whatever a thread did not confirm (or a page no
 * thread answered) is checked on the main thread as before, so no answer depends on a thread.
 * A thread starts only for a large listing that waits on its main thread rather than on its reads.
 */

/** What threads confirmed of a page: `heads[i]` is 1 when entry i's head seal checked; `ids[i]` its stored id when it opened. */
export interface Vouched {
  heads: Uint8Array | null;
  ids: Array<string | undefined>;
}

/** A page and what threads confirmed of it. */
export interface CheckedPage {
  page: AudienceEntry[];
  vouched: Vouched;
}

// The pool's keys, in `HmacBatch.key` order.
const HEADS = 0;
const IDS = 1;

const NOTHING: Vouched = { heads: null, ids: [] };

/** The head seals of a page, for the chain key (those a custom tracker gave in another form are left to the main thread). */
function headsBatch(page: readonly AudienceEntry[]): BatchWriter {
  const writer = new BatchWriter(page.length, 32);
  for (let i = 0; i < page.length; i += 1) {
    const { snapshot } = page[i] as AudienceEntry;
    let text: string | undefined;
    try {
      text = snapshotSealInput(snapshot);
    } catch {
      // Left to the main thread's check, which refuses it.
    }
    writer.add(i, text, snapshot.mac);
  }
  return writer;
}

/**
 * The stored ids of a page decrypted in one AES pass, and the batch that checks each ASCII one's
 * keyed pseudonym against its subject's (the others are left to the main thread).
 */
function idsBatch(keys: DerivedKeys, page: readonly AudienceEntry[]): { writer: BatchWriter; opened: (verdicts: Uint8Array | null) => Array<string | undefined> } {
  const sealed: string[] = [];
  const pseudonyms: string[] = [];
  const at: number[] = [];
  for (let i = 0; i < page.length; i += 1) {
    const { snapshot, sealedSubject } = page[i] as AudienceEntry;
    // Only what the main thread's own check would read as the library's: strings of hex.
    if (typeof sealedSubject !== 'string' || typeof snapshot.pseudonym !== 'string' || snapshot.pseudonym.length !== 64) continue;
    at.push(i);
    sealed.push(sealedSubject);
    pseudonyms.push(snapshot.pseudonym);
  }
  const { bytes, starts, lengths } = decryptedPage(keys.subjectSiv, sealed, pseudonyms);
  const writer = new BatchWriter(sealed.length, 64);
  for (let k = 0; k < sealed.length; k += 1) {
    const start = starts[k] as number;
    const length = lengths[k] as number;
    if (start >= 0 && isAscii(bytes, start, length)) writer.addBytes(k, bytes, start, start + length, pseudonyms[k]);
    else writer.add(k, undefined, undefined);
  }
  const opened = (verdicts: Uint8Array | null): Array<string | undefined> => {
    const ids = new Array<string | undefined>(page.length);
    if (verdicts === null) return ids;
    for (let k = 0; k < sealed.length; k += 1) {
      const start = starts[k] as number;
      if (writer.added[k] === 1 && verdicts[k] === 1) ids[at[k] as number] = bytes.toString('latin1', start, start + (lengths[k] as number));
    }
    return ids;
  };
  return { writer, opened };
}

/** A thread's verdicts, each one counted only for an item the thread was given. */
function given(writer: BatchWriter, verdicts: Uint8Array | null): Uint8Array | null {
  if (verdicts === null) return null;
  const out = new Uint8Array(writer.added.length);
  for (let i = 0; i < out.length; i += 1) out[i] = writer.added[i] === 1 && verdicts[i] === 1 ? 1 : 0;
  return out;
}

/**
 * When a listing checks its pages on threads. Internal: tests lower `minSubjects` and
 * `measuredPages` and raise `mainBound` to have threads at once.
 */
export const audienceThreads = {
  /** Subjects checked on the main thread first: a small audience is listed before a thread would start. */
  minSubjects: 16_384,
  /** Pages the pace is then judged on (after the first ones: code not yet optimized, the readers of an SQLite file not yet open). */
  measuredPages: 4,
  /**
   * Threads start only when the main thread set the pace so far: it waited for the database
   * less than this share of the time it spent on the pages. A listing that mostly waits for its
   * reads (a database server on the same cores, busy building the pages) would only lose the
   * cores a thread takes.
   */
  mainBound: 0.35,
  /** A listing left without a page this long (its caller stopped reading) lets its threads go; later pages are checked on the main thread. */
  idleMs: 10_000,
};

/** The threads of one listing, started once it has read more than a small store holds, if its main thread is what it waits on. */
export class AudienceThreads {
  private pool: HmacPool | null = null;
  private tried = false;
  private read = 0;
  private pages = 0;
  private idle: NodeJS.Timeout | null = null;
  private waited = 0;
  private worked = 0;

  constructor(private readonly keys: DerivedKeys) {}

  /** Milliseconds the listing waited for a page, and spent on it; counted once it has read `minSubjects`. */
  paced(waited: number, worked: number): void {
    if (this.read <= audienceThreads.minSubjects) return;
    this.pages += 1;
    this.waited += waited;
    this.worked += worked;
  }

  /** What threads will confirm of `page` (nothing while the listing is small, or without threads). */
  check(page: readonly AudienceEntry[]): Promise<Vouched> {
    this.read += page.length;
    if (!this.tried && this.pages >= audienceThreads.measuredPages) {
      this.tried = true;
      if (this.waited <= this.worked * audienceThreads.mainBound) this.pool = HmacPool.start([this.keys.chain, this.keys.pseudonym]);
    }
    const pool = this.pool;
    if (pool === null || page.length === 0) return Promise.resolve(NOTHING);
    this.touch();
    try {
      const heads = headsBatch(page);
      const headVerdicts = pool.check(heads.done(HEADS));
      const { writer, opened } = idsBatch(this.keys, page);
      const ids = pool.check(writer.done(IDS));
      return Promise.all([headVerdicts, ids]).then(([h, v]) => ({ heads: given(heads, h), ids: opened(v) }));
    } catch {
      // A page a tracker gave in a form the batches cannot take: the main thread checks it all.
      return Promise.resolve(NOTHING);
    }
  }

  /** Whether pages are checked ahead (a pool is running). */
  get running(): boolean {
    return this.pool !== null;
  }

  close(): void {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = null;
    this.pool?.close();
    this.pool = null;
  }

  /** (Re)starts the idle timer: a listing its caller stopped reading without ending it lets its threads go. */
  private touch(): void {
    if (this.idle !== null) this.idle.refresh();
    else this.idle = setTimeout(() => { this.close(); }, audienceThreads.idleMs).unref();
  }
}

/**
 * Pages passed on in order, each with what threads confirmed of it, while the threads check the
 * pages read next (one page more than there are threads in flight).
 */
export async function* checkedPages(pages: AsyncIterable<AudienceEntry[]>, threads: AudienceThreads): AsyncGenerator<CheckedPage> {
  const queue: Array<{ page: AudienceEntry[]; vouched: Promise<Vouched> }> = [];
  const reads = pages[Symbol.asyncIterator]();
  // A read that fails fails the listing once the pages read before it are passed on.
  let failure: { error: unknown } | null = null;
  try {
    for (;;) {
      const asked = performance.now();
      let next: IteratorResult<AudienceEntry[]>;
      try {
        next = await reads.next();
      } catch (error) {
        failure = { error };
        break;
      }
      if (next.done === true) break;
      const waited = performance.now() - asked;
      queue.push({ page: next.value, vouched: threads.check(next.value) });
      if (queue.length > (threads.running ? hmacWorkers.size : 0)) {
        const first = queue.shift() as (typeof queue)[number];
        const vouched = await first.vouched;
        const handed = performance.now();
        yield { page: first.page, vouched };
        // Before threads start: how long the page took to come, against the time spent on it.
        if (!threads.running) threads.paced(waited, performance.now() - handed);
      }
    }
    while (queue.length > 0) {
      const first = queue.shift() as (typeof queue)[number];
      yield { page: first.page, vouched: await first.vouched };
    }
    if (failure !== null) throw failure.error;
  } finally {
    threads.close();
    await reads.return?.();
  }
}

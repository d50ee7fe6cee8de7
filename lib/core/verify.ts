import { leafCount } from '../audit/log-leaf';
import { LogHeadError } from '../audit/log-seal';
import { ChainVerifier, type IntegrityProblem, type VerifyResult } from '../audit/verify-chain';
import { nextTurn } from '../event-loop-turns';
import { LogVerifier, type CheckpointClaim, type LogKeys } from '../audit/verify-log';
import type { LogEntry, LogHead, SealedHead, StoredEvent } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import { PageCursor, pagesAhead } from './page-cursor';
import { CheckThreads, eventsAhead, headsAhead } from './verify-ahead';
import { appendAll, settledChainProblems } from './verify-settle';
import { idsChecked, unnamed } from './verify-ids';
import type { JudgeKeys } from './audience-judge';
import type { ReferencedVersions } from './verify-versions';

/** The reads verification, export and `stateAt` need. */
export type ProofReader = Pick<ConsentTracker, 'scanEvents' | 'heads' | 'logHead' | 'logEntries' | 'logBlocks'>;

/** Rows per read: each page is its own short query, so the guard is never starved. */
export const VERIFY_PAGE = 2000;

// Pages of events read ahead of the check: two, so that the reads of the heads and the log
// queued before a page's query on SQLite's single connection, or a turn of the event loop
// taken late, do not leave the check waiting for its next page. A page of heads covers several
// of events, and stays one ahead: each page held longer is more for the collector to copy.
const READ_AHEAD = 2;

function eventPages(tracker: ProofReader, chain?: string): AsyncGenerator<StoredEvent[]> {
  return pagesAhead(
    (after: { chain: string; seq: number } | undefined) => tracker.scanEvents({ chain, after, limit: VERIFY_PAGE }),
    (last) => ({ chain: last.chain, seq: last.seq }),
    VERIFY_PAGE,
    READ_AHEAD,
  );
}

function headPages(tracker: ProofReader): AsyncGenerator<SealedHead[]> {
  return pagesAhead((after: string | undefined) => tracker.heads({ after, limit: VERIFY_PAGE }), (last) => last.chain, VERIFY_PAGE);
}

// Checking a page takes longer than reading one, and the next page's query (on SQLite's single
// connection, behind the heads' and the log's) only starts on a turn of the event loop: the
// merge lets one pass every so many events, so the database reads while the hashing goes on.
const YIELD_EVERY = 256;

/**
 * Walks the chains' heads and events together, both in chain order (a merge join). The problems
 * of each chain found wrong are taken out of the verifier into `suspects`, by chain: heads and
 * events are read in separate pages, so a write between the two can make a chain look wrong.
 */
async function verifyChains(
  verifier: ChainVerifier,
  headStream: AsyncIterator<SealedHead[]>,
  eventStream: AsyncIterator<StoredEvent[]>,
  seen: (event: StoredEvent) => void,
  suspects: Map<string, IntegrityProblem[]>,
): Promise<void> {
  const heads = new PageCursor(headStream);
  const events = new PageCursor(eventStream);
  await Promise.all([heads.fill(), events.fill()]);
  for (;;) {
    const head = heads.value;
    let event = events.value;
    if (head === undefined && event === undefined) return;
    const chain = head === undefined ? (event as StoredEvent).chain
      : event === undefined ? head.chain
      : head.chain < event.chain ? head.chain : event.chain;
    const found = verifier.problems.length;
    if (head !== undefined && head.chain === chain) {
      verifier.begin(head);
      if (!heads.step()) await heads.fill();
    } else {
      verifier.begin(null);
    }
    while (event !== undefined && event.chain === chain) {
      verifier.push(event);
      seen(event);
      if (verifier.checked % YIELD_EVERY === 0) await nextTurn();
      if (!events.step()) await events.fill();
      event = events.value;
    }
    verifier.end();
    if (verifier.problems.length > found) suspects.set(chain, verifier.problems.splice(found));
  }
}

// Leaves per page of log entries: an entry holds one transaction's events, from one to thousands.
const LOG_PAGE_LEAVES = 4096;
// Leaves hashed between two turns of the event loop.
const LOG_SLICE = 512;

/**
 * Where a read of the log stands: the key of the last entry that starts inside the sealed log,
 * and the keys of the entries beyond it already read. Entries past the seal are in no fixed
 * order: on PostgreSQL a key is the writer's transaction id, and a lower one may commit after a
 * higher one was read, so a second read starts from the seal again and skips those it has.
 */
interface LogPass {
  sealedEnd: string | undefined;
  unsealed: Set<string>;
}

/**
 * Reads log entries from after `pass.sealedEnd` to the end (all of them on the first pass),
 * in pages sized to hold about `LOG_PAGE_LEAVES` leaves, each page's query sent before the
 * previous page is checked; an entry beyond the seal already read is skipped.
 */
async function readLog(tracker: ProofReader, verifier: LogVerifier, pass: LogPass): Promise<void> {
  // One entry first: its size is unknown (a tracker may read each leaf's hash from its event).
  let limit = 1;
  let pending = tracker.logEntries({ after: pass.sealedEnd, limit });
  for (;;) {
    const page: LogEntry[] = await pending;
    const tail = page[page.length - 1];
    const more = tail !== undefined && page.length >= limit;
    if (more) {
      const leaves = page.reduce((sum, e) => sum + leafCount(e.leaves), 0);
      limit = Math.max(1, Math.min(4096, Math.floor((LOG_PAGE_LEAVES * page.length) / Math.max(1, leaves))));
      pending = tracker.logEntries({ after: tail.key, limit });
      pending.catch(() => undefined);
    }
    // In slices, each followed by a turn of the event loop: the events' scan sends its next
    // query meanwhile, so the database reads while the tree is hashed.
    let hashed = 0;
    for (const entry of page) {
      if (pass.unsealed.has(entry.key)) continue;
      if (verifier.leavesRead < verifier.sealedSize) pass.sealedEnd = entry.key;
      else pass.unsealed.add(entry.key);
      verifier.wholeLeaves(entry);
      const n = leafCount(entry.leaves);
      for (let from = 0; from < n; from += LOG_SLICE) {
        const to = Math.min(n, from + LOG_SLICE);
        verifier.entry(entry, from, to);
        hashed += to - from;
        if (hashed >= LOG_SLICE) {
          hashed = 0;
          await nextTurn();
        }
      }
    }
    if (!more) return;
  }
}

/** Checks every stored block of the log's tree against the recomputed one. */
async function readBlocks(tracker: ProofReader, verifier: LogVerifier): Promise<void> {
  for (let from = 0; ;) {
    const page = await tracker.logBlocks({ from, limit: VERIFY_PAGE });
    for (const block of page) verifier.block(block);
    const last = page[page.length - 1];
    if (last === undefined || page.length < VERIFY_PAGE) return;
    from = last.index + 1;
  }
}

/** The stored head; one that cannot even be read stands as a head whose seal fails. */
async function readHead(tracker: ProofReader): Promise<LogHead | null> {
  try {
    return await tracker.logHead();
  } catch (error) {
    // Through the storage deadline, the tracker's error arrives as the cause of a store error.
    const cause = (error as { cause?: unknown } | null)?.cause;
    if (error instanceof LogHeadError || cause instanceof LogHeadError) return { size: 0, root: '', subtrees: [], mark: '', open: null, mac: '' };
    throw error;
  }
}

/** Runs both checks at once (each one's reads overlap the other's hashing); fails if either does. */
async function both(a: Promise<void>, b: Promise<void>): Promise<void> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
}

/**
 * The keys of verification: the chains' and the log's, and those of the subject ids stored with
 * the chains (checked when given).
 */
export interface VerifyKeys extends LogKeys, Partial<Omit<JudgeKeys, 'chain'>> {
  chain: Buffer;
}

/** The keys that open the stored subject ids, when verification has them. */
function idKeys(keys: VerifyKeys): JudgeKeys | null {
  const { chain, pseudonym, subjectSiv, subject } = keys;
  return pseudonym && subjectSiv && subject ? { chain, pseudonym, subjectSiv, subject } : null;
}

/** Options of `verifyStore`. */
export interface VerifyStoreOptions {
  /** A checkpoint the log must extend (problem `rollback` otherwise). */
  checkpoint?: CheckpointClaim;
  /**
   * An upgraded store, before it is sealed again: heads are checked against the seal of
   * release 1 and every record against its chain's events.
   */
  legacy?: boolean;
  /** Told the requirement version of every event read (of the whole store). */
  referenced?: ReferencedVersions;
}

/**
 * Verifies the whole store (chains, heads, links, records and the global log, and the log
 * against `checkpoint` when given), or only the chain now linked to `pseudonym`, in keyset
 * pages. Memory stays flat however many events there are (the log's checks hold a bit per
 * event id). Seal the log first: what is not sealed yet is only checked to be logged.
 */
export async function verifyStore(tracker: ProofReader, keys: VerifyKeys, pseudonym?: string, options: VerifyStoreOptions = {}): Promise<VerifyResult> {
  const legacy = options.legacy ?? false;
  const chains = new ChainVerifier(keys.chain, legacy);
  const opener = legacy ? null : idKeys(keys);
  const idProblems: IntegrityProblem[] = [];
  if (pseudonym !== undefined) {
    const [head] = await tracker.heads({ pseudonym, limit: 1 });
    if (!head) return chains.result();
    let checked = 0;
    const suspects = new Map<string, IntegrityProblem[]>();
    // eslint-disable-next-line @typescript-eslint/require-await -- the verifier reads pages from an async iterable
    const one = (async function* () {
      yield [head];
    })();
    await verifyChains(chains, opener === null ? one : idsChecked(one, opener, idProblems), eventPages(tracker, head.chain), () => { checked += 1; }, suspects);
    const problems = await settledChainProblems(tracker, keys.chain, [...suspects.keys()], legacy);
    appendAll(problems, unnamed(idProblems, problems));
    return { ok: problems.length === 0, checked, problems };
  }
  const log = new LogVerifier(keys, await readHead(tracker), options.checkpoint ?? null, legacy);
  const threads = new CheckThreads(keys.chain);
  try {
    const pass: LogPass = { sealedEnd: undefined, unsealed: new Set() };
    // An upgraded store's heads carry the seal of release 1: the check computes those itself.
    const heads = legacy ? headPages(tracker) : headsAhead(opener === null ? headPages(tracker) : idsChecked(headPages(tracker), opener, idProblems), chains, threads);
    const events = eventsAhead(eventPages(tracker), keys.chain, chains, threads);
    const suspects = new Map<string, IntegrityProblem[]>();
    await both(
      readLog(tracker, log, pass),
      verifyChains(chains, heads, events, (event) => {
        log.event(event);
        options.referenced?.add(event);
      }, suspects),
    );
    appendAll(chains.problems, await settledChainProblems(tracker, keys.chain, [...suspects.keys()], legacy));
    appendAll(chains.problems, unnamed(idProblems, chains.problems));
    // Entries written while the events were read: every event read is logged by now.
    await readLog(tracker, log, pass);
    await readBlocks(tracker, log);
    const named = new Set(chains.problems.map((p) => p.eventId));
    const problems = [...(await log.end(named, chains.problems.length === 0)), ...chains.problems];
    return { ok: problems.length === 0, checked: chains.checked, problems };
  } finally {
    log.close();
    threads.close();
  }
}

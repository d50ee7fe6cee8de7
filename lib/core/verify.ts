import { versionSealed } from '../audit/head-seal';
import { ChainVerifier, type IntegrityProblem, type VerifyResult } from '../audit/verify-chain';
import { LedgerVerifier } from '../audit/verify-ledger';
import type { LedgerPageEntry, SealedHead, StoredEvent, StoredRequirementVersion } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import { PageCursor, pagesAhead } from './page-cursor';

/** The reads verification, export and `stateAt` need. */
export type ProofReader = Pick<ConsentTracker, 'scanEvents' | 'heads' | 'ledger' | 'ledgerHead'>;

/** Rows per read: each page is its own short query, so the guard is never starved. */
export const VERIFY_PAGE = 1000;

function eventPages(tracker: ProofReader, chain?: string): AsyncGenerator<StoredEvent[]> {
  return pagesAhead(
    (after: { chain: string; seq: number } | undefined) => tracker.scanEvents({ chain, after, limit: VERIFY_PAGE }),
    (last) => ({ chain: last.chain, seq: last.seq }),
    VERIFY_PAGE,
  );
}

function headPages(tracker: ProofReader): AsyncGenerator<SealedHead[]> {
  return pagesAhead((after: string | undefined) => tracker.heads({ after, limit: VERIFY_PAGE }), (last) => last.chain, VERIFY_PAGE);
}

// Checking a page takes longer than reading one, and the next page's query (on SQLite's single
// connection, behind the heads' and ledger's) only starts on a turn of the event loop: the
// merge lets one pass every so many events, so the database reads while the hashing goes on.
const YIELD_EVERY = 256;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Walks the chains' heads and events together, both in chain order (a merge join). */
async function verifyChains(verifier: ChainVerifier, headStream: AsyncIterator<SealedHead[]>, eventStream: AsyncIterator<StoredEvent[]>): Promise<void> {
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
    if (head !== undefined && head.chain === chain) {
      verifier.begin(head);
      if (!heads.step()) await heads.fill();
    } else {
      verifier.begin(null);
    }
    while (event !== undefined && event.chain === chain) {
      verifier.push(event);
      if (verifier.checked % YIELD_EVERY === 0) await turn();
      if (!events.step()) await events.fill();
      event = events.value;
    }
    verifier.end();
  }
}

/** Chains of `entries` that have a head with events: read along with the entries, else looked up. */
async function chainsWithEvents(tracker: ProofReader, entries: LedgerPageEntry[]): Promise<Set<string>> {
  const present = new Set<string>();
  const unknown: string[] = [];
  for (const entry of entries) {
    if (entry.headSeq === undefined) unknown.push(entry.chain);
    else if (entry.headSeq !== null && entry.headSeq > 0) present.add(entry.chain);
  }
  if (unknown.length > 0) {
    // One query per page of entries, never one per chain.
    for (const head of await tracker.heads({ chains: unknown, limit: unknown.length })) {
      if (head.seq > 0) present.add(head.chain);
    }
  }
  return present;
}

/** Checks the ledger of chains: every authentic entry's chain must still have its head. */
async function verifyLedger(tracker: ProofReader, verifier: LedgerVerifier): Promise<void> {
  const pages = pagesAhead((after: number | undefined) => tracker.ledger({ after: after ?? 0, limit: VERIFY_PAGE }), (last) => last.n, VERIFY_PAGE);
  for await (const page of pages) {
    const authentic = page.filter((entry) => verifier.push(entry));
    if (authentic.length === 0) continue;
    // A chain enters the ledger with its first event: an empty head means it was emptied.
    const present = await chainsWithEvents(tracker, authentic);
    for (const entry of authentic) {
      if (!present.has(entry.chain)) verifier.problems.push({ eventId: entry.firstId, kind: 'chain_missing' });
    }
  }
  verifier.end(await tracker.ledgerHead());
}

/** Runs both checks at once (each one's reads overlap the other's hashing); fails if either does. */
async function both(a: Promise<void>, b: Promise<void>): Promise<void> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
}

/**
 * Verifies the whole store, or only the chain now linked to `pseudonym`, in keyset pages.
 * Memory stays flat however many events there are. With `legacy`, heads are checked against
 * the seal of release 1 and every record against its chain's events (an upgraded store, before
 * it is sealed again).
 */
export async function verifyStore(tracker: ProofReader, key: Buffer, pseudonym?: string, legacy = false): Promise<VerifyResult> {
  const chains = new ChainVerifier(key, legacy);
  if (pseudonym !== undefined) {
    const [head] = await tracker.heads({ pseudonym, limit: 1 });
    if (head) {
      // eslint-disable-next-line @typescript-eslint/require-await -- the verifier reads pages from an async iterable
      const one = (async function* () {
        yield [head];
      })();
      await verifyChains(chains, one, eventPages(tracker, head.chain));
    }
    return chains.result();
  }
  const ledger = new LedgerVerifier(key);
  await both(verifyLedger(tracker, ledger), verifyChains(chains, headPages(tracker), eventPages(tracker)));
  const problems = [...ledger.problems, ...chains.problems];
  return { ok: problems.length === 0, checked: chains.checked, problems };
}

/** A `text_changed` problem for each stored requirement version whose seal fails. */
export function versionProblems(key: Buffer, versions: readonly StoredRequirementVersion[]): IntegrityProblem[] {
  return versions
    .filter((v) => !versionSealed(key, v))
    .map((v) => ({ eventId: `requirement:${v.id}:${String(v.version)}`, kind: 'text_changed', requirement: v.id, version: v.version }));
}


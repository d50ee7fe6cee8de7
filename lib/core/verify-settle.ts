import { ChainVerifier, type IntegrityProblem } from '../audit/verify-chain';
import type { SealedHead, StoredEvent } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';

/** The reads a settled check of one chain needs. */
export type ChainReader = Pick<ConsentTracker, 'scanEvents' | 'heads'>;

// Reads of a chain that a write kept moving before the check takes the head as its bound.
const SETTLE_TRIES = 4;
const PAGE = 2000;

/** Every event of `chain` stored now, oldest first. */
async function chainEvents(reader: ChainReader, chain: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let after: { chain: string; seq: number } | undefined; ;) {
    const page = await reader.scanEvents({ chain, after, limit: PAGE });
    out.push(...page);
    const last = page[page.length - 1];
    if (last === undefined || page.length < PAGE) return out;
    after = { chain: last.chain, seq: last.seq };
  }
}

const headOf = async (reader: ChainReader, chain: string): Promise<SealedHead | null> =>
  (await reader.heads({ chains: [chain], limit: 1 }))[0] ?? null;

/** Each write of a chain seals a new head: the same seal before and after a read means nothing was written meanwhile. */
const sameHead = (a: SealedHead | null, b: SealedHead | null): boolean =>
  a === null ? b === null : b !== null && a.seq === b.seq && a.mac === b.mac && a.pseudonym === b.pseudonym;

function check(key: Buffer, legacy: boolean, head: SealedHead | null, events: readonly StoredEvent[]): IntegrityProblem[] {
  const verifier = new ChainVerifier(key, legacy);
  verifier.begin(head);
  for (const event of events) verifier.push(event);
  verifier.end();
  return verifier.problems;
}

/**
 * The problems of one chain read as one state: its head, then its events, then its head again,
 * until the head did not move meanwhile (every write seals a new one in the transaction that
 * appends its events), so that head and events are what one instant held. A chain still written
 * to after a few tries is checked against the newest head and the events up to it, read after
 * it (as the subject's own reads do): the head moved, so the library wrote it. Pure reads.
 *
 * This is what the whole store's scan asks of a chain it found wrong: its head and its events are
 * read in separate pages, so a write between them looks like a head ahead of its events, or events
 * beyond their head. A head put back from an earlier copy does not move, and is reported.
 */
export async function settledChainProblems(reader: ChainReader, key: Buffer, chain: string, legacy = false): Promise<IntegrityProblem[]> {
  let head = await headOf(reader, chain);
  for (let attempt = 0; attempt < SETTLE_TRIES; attempt += 1) {
    const events = await chainEvents(reader, chain);
    const after = await headOf(reader, chain);
    if (sameHead(head, after)) return check(key, legacy, head, events);
    head = after;
  }
  const events = (await chainEvents(reader, chain)).filter((event) => head === null || event.seq <= head.seq);
  return check(key, legacy, head, events);
}

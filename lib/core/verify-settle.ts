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

// Chains whose heads are read in one lookup.
const BATCH = 500;

async function headsOf(reader: ChainReader, chains: readonly string[]): Promise<Map<string, SealedHead>> {
  const out = new Map<string, SealedHead>();
  for (const head of await reader.heads({ chains: [...chains], limit: chains.length })) out.set(head.chain, head);
  return out;
}

/** Each write of a chain seals a new head: the same seal before and after a read means nothing was written meanwhile. */
const sameHead = (a: SealedHead | null, b: SealedHead | null): boolean =>
  a === null ? b === null : b !== null && a.seq === b.seq && a.mac === b.mac && a.pseudonym === b.pseudonym;

/**
 * Whether `head`, read after `events`, is behind one of them. A write of the library appends
 * events and moves the chain's head past them in one transaction, and no write moves a head
 * back: every event read before a head is at or below it. A head behind one was put back from
 * an earlier copy, even one swapped at every read so that it never reads twice the same.
 */
const behindItsEvents = (head: SealedHead | null, events: readonly StoredEvent[]): boolean =>
  head !== null && events.some((event) => event.seq > head.seq);

/**
 * Appends `items` to `target` one by one: spread into `push`, a list longer than a call takes
 * arguments (about 125,000) throws a RangeError, and a store where every event fails has more.
 */
export function appendAll<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

function check(key: Buffer, legacy: boolean, head: SealedHead | null, events: readonly StoredEvent[]): IntegrityProblem[] {
  const verifier = new ChainVerifier(key, legacy);
  verifier.begin(head);
  for (const event of events) verifier.push(event);
  verifier.end();
  return verifier.problems;
}

/**
 * The problems of each of `chains` read as one state: its head, then its events, then its head
 * again, until the head did not move meanwhile (every write seals a new one in the transaction
 * that appends its events), so that head and events are what one instant held. A chain still
 * written to after a few tries is checked against the newest head and the events up to it, read
 * after it (as the subject's own reads do): the head moved, so the library wrote it. Heads are
 * read in batches; events a chain at a time. Pure reads.
 *
 * This is what the whole store's scan asks of the chains it found wrong: heads and events are
 * read in separate pages, so a write between them looks like a head ahead of its events, or
 * events beyond their head. A head put back from an earlier copy is reported, whether it stays
 * (it does not move) or is swapped again and again (see `behindItsEvents`).
 */
export async function settledChainProblems(reader: ChainReader, key: Buffer, chains: readonly string[], legacy = false): Promise<IntegrityProblem[]> {
  const problems: IntegrityProblem[] = [];
  // In batches: the events of one batch's chains are held at once.
  for (let i = 0; i < chains.length; i += BATCH) appendAll(problems, await settleBatch(reader, key, chains.slice(i, i + BATCH), legacy));
  return problems;
}

async function settleBatch(reader: ChainReader, key: Buffer, chains: readonly string[], legacy: boolean): Promise<IntegrityProblem[]> {
  const problems: IntegrityProblem[] = [];
  let pending = [...chains];
  let heads = await headsOf(reader, pending);
  for (let attempt = 0; attempt < SETTLE_TRIES && pending.length > 0; attempt += 1) {
    const events = new Map<string, StoredEvent[]>();
    for (const chain of pending) events.set(chain, await chainEvents(reader, chain));
    const after = await headsOf(reader, pending);
    const moved: string[] = [];
    for (const chain of pending) {
      const head = heads.get(chain) ?? null;
      const now = after.get(chain) ?? null;
      const read = events.get(chain) ?? [];
      if (sameHead(head, now)) appendAll(problems, check(key, legacy, head, read));
      // Checked against the head read after them: the events beyond it are reported.
      else if (behindItsEvents(now, read)) appendAll(problems, check(key, legacy, now, read));
      else moved.push(chain);
    }
    pending = moved;
    heads = after;
  }
  for (const chain of pending) {
    let head = heads.get(chain) ?? null;
    let events = (await chainEvents(reader, chain)).filter((event) => head === null || event.seq <= head.seq);
    const now = (await headsOf(reader, [chain])).get(chain) ?? null;
    if (head !== null && now !== null && now.erased !== head.erased) {
      // Erased meanwhile, which blanks the events read against a head that did not say so: an
      // erased chain is written no more, so its head and events now agree.
      head = now;
      events = await chainEvents(reader, chain);
    }
    appendAll(problems, check(key, legacy, head, events));
  }
  return problems;
}

import { ChainVerifier, type VerifyResult } from '../audit/verify-chain';
import { LedgerVerifier } from '../audit/verify-ledger';
import type { ChainHead, StoredEvent } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';

/** The reads verification, export and `stateAt` need. */
export type ProofReader = Pick<ConsentTracker, 'scanEvents' | 'heads' | 'ledger' | 'ledgerHead'>;

/** Rows per read: each page is its own short query, so the guard is never starved. */
export const VERIFY_PAGE = 1000;

async function* eventPages(tracker: ProofReader, chain?: string): AsyncGenerator<StoredEvent> {
  let after: { chain: string; seq: number } | undefined;
  for (;;) {
    const page = await tracker.scanEvents({ chain, after, limit: VERIFY_PAGE });
    yield* page;
    const last = page[page.length - 1];
    if (!last || page.length < VERIFY_PAGE) return;
    after = { chain: last.chain, seq: last.seq };
  }
}

async function* headPages(tracker: ProofReader): AsyncGenerator<ChainHead> {
  let after: string | undefined;
  for (;;) {
    const page = await tracker.heads({ after, limit: VERIFY_PAGE });
    yield* page;
    const last = page[page.length - 1];
    if (!last || page.length < VERIFY_PAGE) return;
    after = last.chain;
  }
}

/** Walks the chains' heads and events together, both in chain order (a merge join). */
async function verifyChains(verifier: ChainVerifier, heads: AsyncIterator<ChainHead>, events: AsyncIterator<StoredEvent>): Promise<void> {
  let head = await heads.next();
  let event = await events.next();
  while (!head.done || !event.done) {
    const chain = head.done ? (event.value as StoredEvent).chain
      : event.done ? head.value.chain
      : head.value.chain < event.value.chain ? head.value.chain : event.value.chain;
    if (!head.done && head.value.chain === chain) {
      verifier.begin(head.value);
      head = await heads.next();
    } else {
      verifier.begin(null);
    }
    while (!event.done && event.value.chain === chain) {
      verifier.push(event.value);
      event = await events.next();
    }
    verifier.end();
  }
}

/** Checks the ledger of chains: every authentic entry's chain must still have its head. */
async function verifyLedger(tracker: ProofReader, verifier: LedgerVerifier): Promise<void> {
  let after = 0;
  for (;;) {
    const page = await tracker.ledger({ after, limit: VERIFY_PAGE });
    const authentic = page.filter((entry) => verifier.push(entry));
    if (authentic.length > 0) {
      const heads = await tracker.heads({ chains: authentic.map((e) => e.chain), limit: authentic.length });
      // A chain enters the ledger with its first event: an empty head means it was emptied.
      const present = new Set(heads.filter((h) => h.seq > 0).map((h) => h.chain));
      for (const entry of authentic) {
        if (!present.has(entry.chain)) verifier.problems.push({ eventId: entry.firstId, kind: 'chain_missing' });
      }
    }
    const last = page[page.length - 1];
    if (!last || page.length < VERIFY_PAGE) break;
    after = last.n;
  }
  verifier.end(await tracker.ledgerHead());
}

/**
 * Verifies the whole store, or only the chain now linked to `pseudonym`, in keyset pages.
 * Memory stays flat however many events there are.
 */
export async function verifyStore(tracker: ProofReader, key: Buffer, pseudonym?: string): Promise<VerifyResult> {
  const chains = new ChainVerifier(key);
  if (pseudonym !== undefined) {
    const [head] = await tracker.heads({ pseudonym, limit: 1 });
    if (head) {
      const one = (async function* () {
        yield head;
      })();
      await verifyChains(chains, one, eventPages(tracker, head.chain));
    }
    return chains.result();
  }
  const ledger = new LedgerVerifier(key);
  await verifyLedger(tracker, ledger);
  await verifyChains(chains, headPages(tracker), eventPages(tracker));
  const problems = [...ledger.problems, ...chains.problems];
  return { ok: problems.length === 0, checked: chains.checked, problems };
}

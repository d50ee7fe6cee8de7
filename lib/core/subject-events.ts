import { ChainVerifier } from '../audit/verify-chain';
import type { ConsentLogger } from '../options';
import type { SealedHead, StoredEvent } from '../tracker/records';
import { pagesAhead } from './page-cursor';
import { ConsentIntegrityError, ConsentStoreError } from '../errors';
import { integrityFailure } from './trusted';
import { VERIFY_PAGE, type ProofReader } from './verify';

/**
 * The events of a chain, oldest first, in keyset pages of `limit` read one page ahead (at most
 * two pages held), up to the head's `seq`: events a write appends meanwhile are left out, so a
 * reader's work is fixed when it starts.
 */
export function chainEventPages(
  reader: ProofReader,
  head: { chain: string; seq: number },
  limit: number = VERIFY_PAGE,
): AsyncGenerator<StoredEvent[]> {
  return pagesAhead(
    async (after: { chain: string; seq: number } | undefined) =>
      (await reader.scanEvents({ chain: head.chain, after, limit })).filter((event) => event.seq <= head.seq),
    (last) => ({ chain: last.chain, seq: last.seq }),
    limit,
  );
}

/**
 * Reads a chain (up to `head`) and checks it whole, its head, link and records included, passing
 * each event to `onEvent` as it goes. True when it verifies.
 */
async function chainVerifies(tracker: ProofReader, key: Buffer, head: SealedHead, onEvent: (event: StoredEvent) => void): Promise<boolean> {
  const verifier = new ChainVerifier(key);
  verifier.begin(head);
  for await (const page of chainEventPages(tracker, head)) {
    for (const event of page) {
      verifier.push(event);
      onEvent(event);
    }
  }
  verifier.end();
  return verifier.result().ok;
}

/**
 * Whether the chain of `head` was written since `head` was read: an erasure then blanks the
 * events a read met after it, against a head that does not say so yet.
 */
async function moved(tracker: ProofReader, head: SealedHead): Promise<boolean> {
  const [now] = await tracker.heads({ chains: [head.chain], limit: 1 });
  return now === undefined || now.seq !== head.seq || now.mac !== head.mac || now.erased !== head.erased;
}

/**
 * A chain that failed its check: a storage error to try again when a write moved it meanwhile
 * (nothing was altered), else the integrity failure (logged).
 */
async function chainFailure(tracker: ProofReader, logger: ConsentLogger, head: SealedHead): Promise<ConsentStoreError> {
  if (await moved(tracker, head)) return new ConsentStoreError("the subject's history changed while it was read: try again");
  return integrityFailure(logger, "a subject's history, head or records");
}

/**
 * `chainEventPages`, each event checked as it passes: after the last page, a chain that does not
 * verify throws instead of ending, so a streamed answer breaks off rather than complete a
 * history the verified one would not give.
 *
 * @throws ConsentIntegrityError (logged), or `store_unavailable` when a write (an erasure) moved
 *   the chain while it was read.
 */
export async function* verifiedEventPages(
  tracker: ProofReader,
  key: Buffer,
  logger: ConsentLogger,
  head: SealedHead,
  limit: number = VERIFY_PAGE,
): AsyncGenerator<StoredEvent[]> {
  const verifier = new ChainVerifier(key);
  verifier.begin(head);
  for await (const page of chainEventPages(tracker, head, limit)) {
    for (const event of page) verifier.push({ ...event });
    yield page;
  }
  verifier.end();
  if (!verifier.result().ok) throw await chainFailure(tracker, logger, head);
}

// Reads of a subject's chain that a write moved before the read gives up.
const READ_TRIES = 3;

/**
 * Folds the events of the chain now linked to `pseudonym`, oldest first, into a value made
 * fresh by `start` for each read, once the whole chain verifies (its head, link and records
 * included; read again when a write moved it meanwhile). Only a page or two of events is ever
 * held, whatever the history's length, besides what `step` keeps.
 */
export async function foldVerifiedEvents<T>(
  tracker: ProofReader,
  key: Buffer,
  logger: ConsentLogger,
  pseudonym: string,
  start: () => T,
  step: (into: T, event: StoredEvent) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const [head] = await tracker.heads({ pseudonym, limit: 1 });
    const into = start();
    if (!head) return into;
    if (await chainVerifies(tracker, key, head, (event) => { step(into, event); })) return into;
    // A write between the head and its events (an erasure blanks them): read again.
    const failure = await chainFailure(tracker, logger, head);
    if (failure instanceof ConsentIntegrityError || attempt >= READ_TRIES) throw failure;
  }
}

/**
 * The events of the chain now linked to `pseudonym` (of one requirement, plus erase events),
 * oldest first, once the whole chain verifies (see `foldVerifiedEvents`).
 */
export async function verifiedEvents(tracker: ProofReader, key: Buffer, logger: ConsentLogger, pseudonym: string, requirement?: string): Promise<StoredEvent[]> {
  return foldVerifiedEvents(tracker, key, logger, pseudonym, (): StoredEvent[] => [], (out, event) => {
    if (requirement === undefined || event.requirement === requirement || event.action === 'erase') out.push(event);
  });
}

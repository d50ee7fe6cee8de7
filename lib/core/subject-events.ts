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
 * reader's work is fixed when it starts. Those read beyond the head go to `beyond` (see
 * `checkBeyond`).
 */
export function chainEventPages(
  reader: ProofReader,
  head: { chain: string; seq: number },
  limit: number = VERIFY_PAGE,
  beyond: StoredEvent[] = [],
): AsyncGenerator<StoredEvent[]> {
  return pagesAhead(
    async (after: { chain: string; seq: number } | undefined) => {
      const page = await reader.scanEvents({ chain: head.chain, after, limit });
      const within = page.filter((event) => event.seq <= head.seq);
      if (within.length < page.length) for (const event of page) if (event.seq > head.seq) beyond.push(event);
      return within;
    },
    (last) => ({ chain: last.chain, seq: last.seq }),
    limit,
  );
}

/**
 * Events read beyond the head are a write made since it was read, unless the head has not moved:
 * then the subject row was put back from an earlier copy while the events written after it stay.
 * They are checked as well in that case (the verifier names them as a `rollback`), never passed on.
 */
async function checkBeyond(tracker: ProofReader, verifier: ChainVerifier, head: SealedHead, beyond: readonly StoredEvent[]): Promise<void> {
  if (beyond.length === 0 || (await moved(tracker, head))) return;
  for (const event of beyond) verifier.push({ ...event });
}

/**
 * Refuses a head that events follow while it has not moved: the subject row was put back from an
 * earlier copy (see `checkBeyond`). For a reader that answers from the head before it reads the
 * events (a streamed export sends the states first).
 *
 * @throws ConsentIntegrityError (logged).
 */
export async function requireNewestHead(tracker: ProofReader, logger: ConsentLogger, head: SealedHead): Promise<void> {
  const [next] = await tracker.scanEvents({ chain: head.chain, after: { chain: head.chain, seq: head.seq }, limit: 1 });
  if (next !== undefined && !(await moved(tracker, head))) throw integrityFailure(logger, "a subject's stored records (events follow their head)");
}

/**
 * Reads a chain (up to `head`) and checks it whole, its head, link and records included, passing
 * each event to `onEvent` as it goes. True when it verifies.
 */
async function chainVerifies(tracker: ProofReader, key: Buffer, head: SealedHead, onEvent: (event: StoredEvent) => void): Promise<boolean> {
  const verifier = new ChainVerifier(key);
  verifier.begin(head);
  const beyond: StoredEvent[] = [];
  for await (const page of chainEventPages(tracker, head, VERIFY_PAGE, beyond)) {
    for (const event of page) {
      verifier.push(event);
      onEvent(event);
    }
  }
  await checkBeyond(tracker, verifier, head, beyond);
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
 * `chainEventPages`, each page checked before it is passed on, and the chain whole after the
 * last: a chain that does not verify throws instead of going on, so a streamed answer breaks off
 * (before its first byte, when the first page fails) rather than send events or complete a
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
  const beyond: StoredEvent[] = [];
  for await (const page of chainEventPages(tracker, head, limit, beyond)) {
    for (const event of page) verifier.push({ ...event });
    // Checked before it is passed on: an event that does not verify is never sent.
    if (!verifier.clean()) throw await chainFailure(tracker, logger, head);
    yield page;
  }
  await checkBeyond(tracker, verifier, head, beyond);
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

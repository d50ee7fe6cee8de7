import { ChainVerifier } from '../audit/verify-chain';
import type { ConsentLogger } from '../options';
import type { SealedHead, StoredEvent } from '../tracker/records';
import { pagesAhead } from './page-cursor';
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
 * each event to `onEvent` as it goes.
 *
 * @throws ConsentIntegrityError when it does not verify (logged): never an answer the history would not give.
 */
export async function checkChain(
  tracker: ProofReader,
  key: Buffer,
  logger: ConsentLogger,
  head: SealedHead,
  onEvent: (event: StoredEvent) => void = () => undefined,
): Promise<void> {
  const verifier = new ChainVerifier(key);
  verifier.begin(head);
  for await (const page of chainEventPages(tracker, head)) {
    for (const event of page) {
      verifier.push(event);
      onEvent(event);
    }
  }
  verifier.end();
  if (!verifier.result().ok) throw integrityFailure(logger, "a subject's history, head or records");
}

/**
 * `chainEventPages`, each event checked as it passes (see `checkChain`): after the last page, a
 * chain that does not verify throws instead of ending, so a streamed answer breaks off rather
 * than complete a history the verified one would not give.
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
  if (!verifier.result().ok) throw integrityFailure(logger, "a subject's history, head or records");
}

/**
 * The events of the chain now linked to `pseudonym` (of one requirement, plus erase events),
 * oldest first, once the whole chain verifies (see `checkChain`).
 */
export async function verifiedEvents(tracker: ProofReader, key: Buffer, logger: ConsentLogger, pseudonym: string, requirement?: string): Promise<StoredEvent[]> {
  const [head] = await tracker.heads({ pseudonym, limit: 1 });
  if (!head) return [];
  const out: StoredEvent[] = [];
  await checkChain(tracker, key, logger, head, (event) => {
    if (requirement === undefined || event.requirement === requirement || event.action === 'erase') out.push(event);
  });
  return out;
}

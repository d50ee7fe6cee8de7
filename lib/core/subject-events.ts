import type { StoredEvent } from '../tracker/records';
import { pagesAhead } from './page-cursor';
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
 * Every event of the chain now linked to `pseudonym`, oldest first, read in keyset pages
 * (optionally only one requirement's, plus erase events).
 */
export async function subjectEvents(tracker: ProofReader, pseudonym: string, requirement?: string): Promise<StoredEvent[]> {
  const [head] = await tracker.heads({ pseudonym, limit: 1 });
  if (!head) return [];
  const out: StoredEvent[] = [];
  for await (const page of chainEventPages(tracker, head)) {
    for (const event of page) {
      if (requirement === undefined || event.requirement === requirement || event.action === 'erase') out.push(event);
    }
  }
  return out;
}

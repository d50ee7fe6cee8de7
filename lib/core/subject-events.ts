import type { StoredEvent } from '../tracker/records';
import { VERIFY_PAGE, type ProofReader } from './verify';

/**
 * Every event of the chain now linked to `pseudonym`, oldest first, read in keyset pages
 * (optionally only one requirement's, plus erase events).
 */
export async function subjectEvents(tracker: ProofReader, pseudonym: string, requirement?: string): Promise<StoredEvent[]> {
  const [head] = await tracker.heads({ pseudonym, limit: 1 });
  if (!head) return [];
  const out: StoredEvent[] = [];
  let after: { chain: string; seq: number } | undefined;
  for (;;) {
    const page = await tracker.scanEvents({ chain: head.chain, after, limit: VERIFY_PAGE });
    for (const event of page) {
      if (requirement === undefined || event.requirement === requirement || event.action === 'erase') out.push(event);
    }
    const last = page[page.length - 1];
    if (!last || page.length < VERIFY_PAGE) return out;
    after = { chain: last.chain, seq: last.seq };
  }
}

import { ConsentError } from '../errors';
import type { HistoryOptions, HistoryPage } from '../types';
import type { ConsentEngine } from './engine';
import { requireSubject } from './input';
import { decodeCursor, encodeCursor, publicEvent } from './public-event';
import { storeCall } from './store-call';

/** A page of the subject's history, newest first, with the cursor of the next page. */
export async function readHistory(engine: ConsentEngine, subjectId: unknown, options: HistoryOptions = {}): Promise<HistoryPage> {
  const subject = requireSubject(subjectId);
  const limit = options.limit ?? 50;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 200) {
    throw new ConsentError('invalid_argument', 'limit must be an integer from 1 to 200');
  }
  if (options.requirement !== undefined && typeof options.requirement !== 'string') {
    throw new ConsentError('invalid_argument', 'requirement must be a string');
  }
  const beforeSeq = options.cursor ? decodeCursor(options.cursor) : undefined;
  await engine.ready();
  const pseudonym = engine.pseudonym(subject);
  // One more than asked: whether there is a next page.
  const events = await storeCall(engine.options.storeTimeoutMs, 'history read', () =>
    engine.tracker.history(pseudonym, { requirement: options.requirement, beforeSeq, limit: limit + 1 }),
  );
  const page = events.slice(0, limit);
  const last = page[page.length - 1];
  return {
    events: page.map((event) => publicEvent(event, engine.eventIds)),
    nextCursor: events.length > limit && last ? encodeCursor(last.seq) : null,
  };
}

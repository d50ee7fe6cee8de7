import type { EventIdCodec } from '../audit/event-ids';
import { ConsentError } from '../errors';
import type { ConsentTracker, TrackerHistoryQuery } from '../tracker/tracker';
import type { HistoryOptions, HistoryPage } from '../types';
import { requireSubject } from './input';
import { decodeCursor, encodeCursor, publicEvent } from './public-event';

/** A validated history request: whose, and which page. */
export interface HistoryRequest {
  subject: string;
  query: TrackerHistoryQuery;
}

/**
 * Checks a history request before anything is read.
 * @throws ConsentError `invalid_subject`, or `invalid_argument` for a bad limit, requirement or cursor.
 */
export function historyRequest(subjectId: unknown, options: HistoryOptions = {}): HistoryRequest {
  const subject = requireSubject(subjectId);
  const limit = options.limit ?? 50;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 200) {
    throw new ConsentError('invalid_argument', 'limit must be an integer from 1 to 200');
  }
  if (options.requirement !== undefined && typeof options.requirement !== 'string') {
    throw new ConsentError('invalid_argument', 'requirement must be a string');
  }
  const beforeSeq = options.cursor ? decodeCursor(options.cursor) : undefined;
  return { subject, query: { requirement: options.requirement, beforeSeq, limit } };
}

/** A page of the subject's history, newest first, with the cursor of the next page. */
export async function historyPage(
  tracker: Pick<ConsentTracker, 'history'>,
  ids: EventIdCodec,
  pseudonym: string,
  query: TrackerHistoryQuery,
): Promise<HistoryPage> {
  const { limit } = query;
  // One more than asked: whether there is a next page.
  const events = await tracker.history(pseudonym, { ...query, limit: limit + 1 });
  const page = events.slice(0, limit);
  const last = page[page.length - 1];
  return {
    events: page.map((event) => publicEvent(event, ids)),
    nextCursor: events.length > limit && last ? encodeCursor(last.seq) : null,
  };
}

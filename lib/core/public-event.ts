import { isStoredEventId, type EventIdCodec } from '../audit/event-ids';
import type { VerifyResult } from '../audit/integrity';
import { ConsentError } from '../errors';
import { isoTime } from '../iso-time';
import type { StoredEvent } from '../tracker/records';
import type { ConsentEvent } from '../types';

/**
 * The public shape of a stored event (`Event`): everything a caller sees of an event goes
 * through here, its id encoded with `ids`.
 */
export function publicEvent(event: StoredEvent, ids: EventIdCodec): ConsentEvent {
  return {
    id: ids.encode(event.id),
    requirement: event.requirement,
    version: event.version,
    action: event.action,
    state: event.state,
    source: event.source,
    actor: event.actor,
    at: isoTime(event.at),
    note: event.note,
    data: event.data === null ? null : (JSON.parse(event.data) as Record<string, unknown>),
    context: event.context,
    locale: event.locale ?? null,
  };
}

/**
 * A verification result with public event ids. A problem that knows no event names a position
 * instead (`chain:seq`, `log:n`, `checkpoint:size`), and a tampered row may hold an id no tracker assigned:
 * those are shown as they are.
 */
export function publicVerifyResult(result: VerifyResult, ids: EventIdCodec): VerifyResult {
  const problems = result.problems.map((p) => (isStoredEventId(p.eventId) ? { ...p, eventId: ids.encode(p.eventId) } : p));
  return { ...result, problems };
}

/**
 * History cursors are opaque to callers: the position in the subject's own history to continue
 * below. A cursor made up by hand only picks another place in the same history, which the
 * subject may read anyway: it is checked for its form, not signed.
 */
export function encodeCursor(seq: number): string {
  return Buffer.from(`s${String(seq)}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,32}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^s([1-9][0-9]{0,14})$/.exec(text);
  if (!match) {
    throw new ConsentError('invalid_argument', 'the history cursor is not a cursor of this library: pass the nextCursor of the page before, or none for the first page', {
      extensions: { errors: [{ pointer: '/cursor', detail: 'invalid cursor' }] },
    });
  }
  return Number(match[1]);
}

import { ConsentError } from '../errors';
import type { StoredEvent } from '../tracker/records';
import type { ConsentEvent } from '../types';

/** The public shape of a stored event (SPEC §3 `Event`). */
export function publicEvent(event: StoredEvent): ConsentEvent {
  return {
    id: event.id,
    requirement: event.requirement,
    version: event.version,
    action: event.action,
    state: event.state,
    source: event.source,
    actor: event.actor,
    at: new Date(event.at).toISOString(),
    note: event.note,
    data: event.data === null ? null : (JSON.parse(event.data) as Record<string, unknown>),
  };
}

/** History cursors are opaque to callers: the sequence number to continue below. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,32}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^s([1-9][0-9]{0,14})$/.exec(text);
  if (!match) {
    throw new ConsentError('invalid_argument', 'the history cursor is not one this library issued', {
      extensions: { errors: [{ pointer: '/cursor', detail: 'invalid cursor' }] },
    });
  }
  return Number(match[1]);
}

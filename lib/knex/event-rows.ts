import type { Action, State } from '../types';
import type { NewEvent } from '../tracker/records';
import { HexBytes, hexBytesOrNull } from './bulk-sql';

/* The values of an event row, in `EVENT_COLUMNS` order, as every write inserts them. */

// Ids as numbers where exact, which the statements write as literals instead of binding them.
export function idValue(id: string | null): string | number | null {
  const n = Number(id);
  return id !== null && Number.isSafeInteger(n) ? n : id;
}

/**
 * The state most events of each action leave (a grant's is `granted`, an import of an old
 * version's `outdated`): an event whose state is its action's is stored with an empty state,
 * which the row already implies, 6 to 8 bytes less per event. A state that differs is stored as
 * it is. Rows written before are read as they are: no stored state is empty.
 */
const USUAL_STATE: Readonly<Record<Action, State>> = {
  grant: 'granted', confirm: 'granted', deny: 'denied', withdraw: 'denied', request: 'pending', expire: 'expired', erase: 'unset',
};

/** An event's state as its row stores it. */
export const storedState = (action: Action, state: State): string => (USUAL_STATE[action] === state ? '' : state);

/** An event's state from its row (`storedState` undone). */
export function stateOfRow(action: unknown, stored: unknown): State {
  if (stored !== '') return stored as State;
  // An action this release does not know (a row written by another one) has no usual state:
  // its empty state is left for the hash check to refuse.
  return (Object.hasOwn(USUAL_STATE, action as string) ? USUAL_STATE[action as Action] : stored) as State;
}

/** An event's values in `EVENT_COLUMNS` order, for `insertStatements`: bytes for its chain key and digests. */
export function eventRow(e: NewEvent): unknown[] {
  return [
    idValue(e.id), new HexBytes(e.chain), e.seq, e.requirement, e.version, e.action, storedState(e.action, e.state), e.source, e.actor, e.at,
    e.note, e.data, e.ip, e.userAgent, hexBytesOrNull(e.personalDigest), idValue(e.prevId), new HexBytes(e.hash), e.context ?? null, e.locale ?? null,
    hexBytesOrNull(e.personalSalt ?? null),
  ];
}

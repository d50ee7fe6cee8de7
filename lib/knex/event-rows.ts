import type { NewEvent } from '../tracker/records';
import { HexBytes, hexBytesOrNull } from './bulk-sql';

/* The values of an event row, in `EVENT_COLUMNS` order, as every write inserts them. */

// Ids as numbers where exact, which the statements write as literals instead of binding them.
export function idValue(id: string | null): string | number | null {
  const n = Number(id);
  return id !== null && Number.isSafeInteger(n) ? n : id;
}

/** An event's values in `EVENT_COLUMNS` order, for `insertStatements`: bytes for its chain key and digests. */
export function eventRow(e: NewEvent): unknown[] {
  return [
    idValue(e.id), new HexBytes(e.chain), e.seq, e.requirement, e.version, e.action, e.state, e.source, e.actor, e.at,
    e.note, e.data, e.ip, e.userAgent, hexBytesOrNull(e.personalDigest), idValue(e.prevId), new HexBytes(e.hash), e.context ?? null, e.locale ?? null,
    hexBytesOrNull(e.personalSalt ?? null),
  ];
}

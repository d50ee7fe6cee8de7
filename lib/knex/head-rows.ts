import type { Knex } from 'knex';
import { headPosition } from '../tracker/audience-rows';
import { hexOrNull, idOrNull, type Row } from './row-codec';

/*
 * A chain's head position and hash are its newest event's, which the subject row names
 * (`head_id`): they are read from that event instead of being stored a second time. The head's
 * seal still covers them with the id, so a head id moved to another event, or the newest event
 * changed or removed, fails the seal.
 *
 * The reads join that event only while it is its chain's newest: a subject row put back from an
 * earlier copy (head, seal and records as they were before later writes, whose events are still
 * stored) names an event that has a successor, reads as a head whose event is gone, and fails
 * its seal instead of answering with the state before those writes. One probe of the events'
 * unique (chain, seq) index per subject.
 */

const HEAD = 'head_event';
const NEXT = 'head_next';

/**
 * Fills `q` as an event after the head event (`HEAD`) in its chain: the same seek of the index
 * as the next position alone, and it also finds a position stored as another type (SQLite sorts
 * text and bytes after every number), which an equality with the next position would miss.
 */
function successor(q: Knex.QueryBuilder, events: string): void {
  void q.select(1).from(`${events} as ${NEXT}`).whereRaw('?? = ?? and ?? > ??', [`${NEXT}.chain`, `${HEAD}.chain`, `${NEXT}.seq`, `${HEAD}.seq`]);
}

/**
 * Left-joins to `q` (which reads the subjects as `subjects`) the event each subject row names as
 * its head, when no event follows it in its chain. `newest: false` joins it whatever follows:
 * verification reads heads so, to tell a head set back from one whose event was changed.
 */
export function joinHead(q: Knex.QueryBuilder, events: string, subjects: string, { newest = true } = {}): Knex.QueryBuilder {
  if (!newest) return q.leftJoin(`${events} as ${HEAD}`, `${HEAD}.id`, `${subjects}.head_id`);
  return q.leftJoin(`${events} as ${HEAD}`, function joinNewest() {
    this.on(`${HEAD}.id`, '=', `${subjects}.head_id`).andOnNotExists((next) => { successor(next, events); });
  });
}

/** The joined head's position and hash, selected as `seq` and `head_hash` unless named otherwise. */
export const headColumns = (seq = 'seq', hash = 'head_hash'): Record<string, string> => ({ [seq]: `${HEAD}.seq`, [hash]: `${HEAD}.hash` });

/**
 * The head position and hash of a subject row read with its head event (`joinHead`,
 * `addHeads`): an empty chain's without a head id. A head id whose event is gone reads as
 * position 0 without a hash, which no seal covers.
 */
export function headOf(row: Row, seq = 'seq', hash = 'head_hash'): { seq: number; hash: string } {
  return headPosition(row.head_id, row[seq], hexOrNull(row[hash]));
}

/**
 * Sets `seq` and `head_hash` on subject rows read (and locked) without their head events, when
 * the event is its chain's newest (as `joinHead`: a row put back from an earlier copy then fails
 * its seal, where its next write would fail on the position its events already hold). A
 * statement of its own after the lock: on PostgreSQL a row locked after waiting for another
 * writer is its newest version, while a join in the same statement would read that writer's
 * events as they were before it committed.
 */
export async function addHeads(db: Knex | Knex.Transaction, events: string, rows: Row[], chunk = 500): Promise<void> {
  const byId = new Map<string, Row>();
  for (const row of rows) {
    const id = idOrNull(row.head_id);
    if (id !== null) byId.set(id, row);
  }
  const ids = [...byId.keys()];
  for (let i = 0; i < ids.length; i += chunk) {
    const heads = (await db(`${events} as ${HEAD}`)
      .select(`${HEAD}.id`, `${HEAD}.seq`, `${HEAD}.hash`)
      .whereIn(`${HEAD}.id`, ids.slice(i, i + chunk))
      .whereNotExists((next) => { successor(next, events); })) as Row[];
    for (const head of heads) Object.assign(byId.get(idOrNull(head.id) ?? '') ?? {}, { seq: head.seq, head_hash: head.hash });
  }
}

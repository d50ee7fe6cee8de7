import { GENESIS } from '../audit/chain';
import { writeLeaf, LEAF_BYTES } from '../audit/log-leaf';
import type { BatchPlanner, PreparedBatch, WritePlan } from '../tracker/records';
import { insertStatements, type Statement } from './bulk-sql';
import { addStateRows, EVENT_SLICE, newSubjectRows, stateStatements, SUBJECT_COLUMNS, type SubjectRows } from './batch-rows';
import { eventRow, idValue } from './event-rows';
import { reserveIds, type TableContext } from './chain-store';
import { EVENT_COLUMNS, type Row } from './rows';
import { bytes, bytesOrNull, hex } from './row-codec';

/**
 * A batch planned and sealed before its transaction, every subject as a new one (`prepareBatch`).
 * It keeps only what its write sends: the plans and sealed events are gone once it is composed.
 */
export class PreparedKnexBatch implements PreparedBatch {
  constructor(
    readonly pseudonyms: readonly string[],
    /** The new subject rows with their sealed heads, in pseudonym order. */
    readonly subjects: SubjectRows,
    /** The same rows with empty chains (`SUBJECT_COLUMNS`), as the subjects were planned from. */
    private readonly emptyRows: readonly unknown[][],
    /** The reserved ids of each subject's events, in pseudonym order (its plan has sealed them). */
    readonly ids: string[][],
    /** The records' upserts, then the events' inserts. */
    readonly statements: Statement[],
    /** The log leaves of every event, in the order they were sealed. */
    readonly leaves: Buffer,
  ) {}

  /** The first and last reserved ids, or null when the batch has no events. */
  get idRange(): [string, string] | null {
    const withIds = this.ids.filter((ids) => ids.length > 0);
    const first = withIds[0]?.[0];
    const last = withIds[withIds.length - 1]?.at(-1);
    return first === undefined || last === undefined ? null : [first, last];
  }

  /** The row of the `i`th subject as created, its chain empty. */
  emptyRow(i: number): Row {
    const values = this.emptyRows[i] as unknown[];
    return Object.fromEntries(SUBJECT_COLUMNS.map((column, c) => [column, values[c]]));
  }
}

// Work between two turns of the event loop, about a millisecond each: subjects planned, events
// sealed. The batch written meanwhile sends each statement once its last one has answered,
// which the event loop must handle.
const PLAN_STEP = 50;
const SEAL_STEP = 250;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Plans `pseudonyms` (sorted, distinct) as new subjects, reserves their ids, seals their chains
 * and composes the statements of their records and events, outside any transaction. Null when
 * a plan throws or has outbox entries: the transaction then plans everything itself. Rows are
 * turned into statements slice by slice, so that no row of the whole batch waits for the last.
 */
export async function prepareBatch(ctx: TableContext, pseudonyms: string[], plan: BatchPlanner): Promise<PreparedKnexBatch | null> {
  const emptyRows = newSubjectRows(pseudonyms);
  const plans: WritePlan[] = [];
  const statements: Statement[] = [];
  let stateRows: unknown[][] = [];
  let events = 0;
  for (const [i, pseudonym] of pseudonyms.entries()) {
    const row = emptyRows[i] as unknown[];
    // What the snapshot of the row as created reads: an empty chain.
    const snapshot = { chain: hex(row[0]), pseudonym: hex(row[1]), seq: 0, hash: GENESIS, headId: null, mac: '', records: [] };
    let subjectPlan;
    try {
      subjectPlan = plan(pseudonym, snapshot);
    } catch {
      return null;
    }
    if (subjectPlan.outbox?.length) return null;
    plans.push(subjectPlan);
    events += subjectPlan.events.length;
    addStateRows(snapshot.chain, subjectPlan, stateRows);
    if (stateRows.length >= EVENT_SLICE) {
      statements.push(...stateStatements(ctx, ctx.knex, stateRows));
      stateRows = [];
    }
    if (i % PLAN_STEP === PLAN_STEP - 1) await turn();
  }
  statements.push(...stateStatements(ctx, ctx.knex, stateRows));
  const reserved = await reserveIds(ctx, events);
  const ids: string[][] = [];
  const heads: unknown[][] = [];
  const leaves = Buffer.allocUnsafe(events * LEAF_BYTES);
  let eventRows: unknown[][] = [];
  let offset = 0;
  let sinceTurn = 0;
  for (const [i, subjectPlan] of plans.entries()) {
    const count = subjectPlan.events.length;
    const own = reserved.slice(offset, offset + count);
    const { events: sealed, head } = subjectPlan.seal(own);
    for (const e of sealed) {
      writeLeaf(leaves, offset * LEAF_BYTES, e);
      offset += 1;
      eventRows.push(eventRow(e));
    }
    ids.push(own);
    const [chain, pseudonym] = emptyRows[i] as unknown[];
    heads.push([chain, pseudonym, head.seq, bytes(head.hash), bytes(head.mac), idValue(head.id), bytesOrNull(subjectPlan.sealedSubject ?? null)]);
    if (eventRows.length >= EVENT_SLICE) {
      statements.push(...insertStatements(ctx.knex, ctx.table('events'), EVENT_COLUMNS, eventRows));
      eventRows = [];
    }
    sinceTurn += count;
    if (sinceTurn >= SEAL_STEP) {
      sinceTurn = 0;
      await turn();
    }
  }
  statements.push(...insertStatements(ctx.knex, ctx.table('events'), EVENT_COLUMNS, eventRows));
  const subjects = { columns: [...SUBJECT_COLUMNS, 'head_id', 'sealed_subject'], rows: heads };
  return new PreparedKnexBatch(pseudonyms, subjects, emptyRows, ids, statements, leaves);
}

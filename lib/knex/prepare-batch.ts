import type { BatchPlanner, PreparedBatch, SealedWrite } from '../tracker/records';
import { insertStatements, type Statement } from './bulk-sql';
import { addStateRows, EVENT_SLICE, newSubjectRows, snapshotOf, stateStatements, SUBJECT_COLUMNS, type Planned, type SubjectRows } from './batch-rows';
import { eventRow, idValue } from './event-rows';
import { reserveIds, type TableContext } from './chain-store';
import { EVENT_COLUMNS, type Row } from './rows';
import { bytes, bytesOrNull } from './row-codec';

/**
 * A batch planned and sealed before its transaction, every subject as a new one (`prepareBatch`).
 */
export class PreparedKnexBatch implements PreparedBatch {
  constructor(
    readonly pseudonyms: readonly string[],
    /** The new subject rows with their sealed heads, in pseudonym order. */
    readonly subjects: SubjectRows,
    /** Each subject as planned: from the row of its empty chain. */
    readonly planned: Planned[],
    /** The reserved ids of each planned subject's events (its plan has sealed them). */
    readonly ids: string[][],
    /** The records' upserts, then the events' inserts. */
    readonly statements: Statement[],
    /** Each planned subject's events and head, as sealed with its reserved ids. */
    readonly sealed: SealedWrite[],
  ) {}

  /** The first and last reserved ids, or null when the batch has no events. */
  get idRange(): [string, string] | null {
    const withIds = this.ids.filter((ids) => ids.length > 0);
    const first = withIds[0]?.[0];
    const last = withIds[withIds.length - 1]?.at(-1);
    return first === undefined || last === undefined ? null : [first, last];
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
 * a plan throws or has outbox entries: the transaction then plans everything itself.
 */
export async function prepareBatch(ctx: TableContext, pseudonyms: string[], plan: BatchPlanner): Promise<PreparedKnexBatch | null> {
  const subjectRows = newSubjectRows(pseudonyms);
  const planned: Planned[] = [];
  for (const [i, pseudonym] of pseudonyms.entries()) {
    const subject: Row = Object.fromEntries(SUBJECT_COLUMNS.map((column, c) => [column, (subjectRows[i] as unknown[])[c]]));
    const snapshot = snapshotOf(subject, []);
    let subjectPlan;
    try {
      subjectPlan = plan(pseudonym, snapshot);
    } catch {
      return null;
    }
    if (subjectPlan.outbox?.length) return null;
    planned.push({ pseudonym, subject, snapshot, plan: subjectPlan });
    if (i % PLAN_STEP === PLAN_STEP - 1) await turn();
  }
  const reserved = await reserveIds(ctx, planned.reduce((sum, p) => sum + p.plan.events.length, 0));
  const ids: string[][] = [];
  const sealed: SealedWrite[] = [];
  const eventRows: unknown[][] = [];
  let offset = 0;
  let sinceTurn = 0;
  for (const p of planned) {
    const count = p.plan.events.length;
    const own = reserved.slice(offset, offset + count);
    offset += count;
    const write = p.plan.seal(own);
    ids.push(own);
    sealed.push(write);
    for (const e of write.events) eventRows.push(eventRow(e));
    sinceTurn += count;
    if (sinceTurn >= SEAL_STEP) {
      sinceTurn = 0;
      await turn();
    }
  }
  const stateRows: unknown[][] = [];
  for (const p of planned) addStateRows(p, stateRows);
  const statements: Statement[] = [];
  for (let i = 0; i < stateRows.length; i += EVENT_SLICE) {
    statements.push(...stateStatements(ctx, ctx.knex, stateRows.slice(i, i + EVENT_SLICE)));
    await turn();
  }
  for (let i = 0; i < eventRows.length; i += EVENT_SLICE) {
    statements.push(...insertStatements(ctx.knex, ctx.table('events'), EVENT_COLUMNS, eventRows.slice(i, i + EVENT_SLICE)));
    await turn();
  }
  const heads = planned.map(({ subject, plan }, i) => {
    const { head } = sealed[i] as SealedWrite;
    return [subject.chain, subject.pseudonym, bytes(head.mac), idValue(head.id), bytesOrNull(plan.sealedSubject ?? null)];
  });
  const subjects = { columns: [...SUBJECT_COLUMNS, 'head_id', 'sealed_subject'], rows: heads };
  return new PreparedKnexBatch(pseudonyms, subjects, planned, ids, statements, sealed);
}

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

// Subjects planned, given their ids and sealed together, about a millisecond of work between two
// turns of the event loop (the batch written meanwhile sends each statement once its last one
// has answered, which the event loop must handle). A slice is done with before the next is
// planned: what it allocated dies young instead of waiting for the whole batch.
const SLICE = 64;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The statements of a prepared batch, composed slice by slice as its rows are produced. */
class BatchStatements {
  readonly statements: Statement[] = [];
  private states: unknown[][] = [];
  private events: unknown[][] = [];

  constructor(private readonly ctx: TableContext) {}

  addStates(chainKey: string, plan: WritePlan): void {
    addStateRows(chainKey, plan, this.states);
    if (this.states.length >= EVENT_SLICE) this.flushStates();
  }

  addEvent(row: unknown[]): void {
    this.events.push(row);
    if (this.events.length >= EVENT_SLICE) this.flushEvents();
  }

  /** The statements, every row included. */
  finish(): Statement[] {
    this.flushStates();
    this.flushEvents();
    return this.statements;
  }

  private flushStates(): void {
    this.statements.push(...stateStatements(this.ctx, this.ctx.knex, this.states));
    this.states = [];
  }

  private flushEvents(): void {
    this.statements.push(...insertStatements(this.ctx.knex, this.ctx.table('events'), EVENT_COLUMNS, this.events));
    this.events = [];
  }
}

/**
 * Plans `pseudonyms` (sorted, distinct) as new subjects, reserves their ids, seals their chains
 * and composes the statements of their records and events, outside any transaction: exactly
 * the ids and hashes that writing the subjects one after another would produce, as every slice
 * reserves its ids after the slice before it. Null when a plan throws or has outbox entries:
 * the transaction then plans everything itself.
 */
export async function prepareBatch(ctx: TableContext, pseudonyms: string[], plan: BatchPlanner): Promise<PreparedKnexBatch | null> {
  const emptyRows = newSubjectRows(pseudonyms);
  const out = new BatchStatements(ctx);
  const ids: string[][] = [];
  const heads: unknown[][] = [];
  const leaves: Buffer[] = [];
  for (let start = 0; start < pseudonyms.length; start += SLICE) {
    const end = Math.min(pseudonyms.length, start + SLICE);
    const plans: WritePlan[] = [];
    let events = 0;
    for (let i = start; i < end; i += 1) {
      const row = emptyRows[i] as unknown[];
      // What the snapshot of the row as created reads: an empty chain.
      const snapshot = { chain: hex(row[0]), pseudonym: hex(row[1]), seq: 0, hash: GENESIS, headId: null, mac: '', records: [] };
      let subjectPlan;
      try {
        subjectPlan = plan(pseudonyms[i] as string, snapshot);
      } catch {
        return null;
      }
      if (subjectPlan.outbox?.length) return null;
      plans.push(subjectPlan);
      events += subjectPlan.events.length;
      out.addStates(snapshot.chain, subjectPlan);
    }
    const reserved = await reserveIds(ctx, events);
    const sliceLeaves = Buffer.allocUnsafe(events * LEAF_BYTES);
    let offset = 0;
    for (const [j, subjectPlan] of plans.entries()) {
      const own = reserved.slice(offset, offset + subjectPlan.events.length);
      const { events: sealed, head } = subjectPlan.seal(own);
      for (const e of sealed) {
        writeLeaf(sliceLeaves, offset * LEAF_BYTES, e);
        offset += 1;
        out.addEvent(eventRow(e));
      }
      ids.push(own);
      const [chain, pseudonym] = emptyRows[start + j] as unknown[];
      heads.push([chain, pseudonym, head.seq, bytes(head.hash), bytes(head.mac), idValue(head.id), bytesOrNull(subjectPlan.sealedSubject ?? null)]);
    }
    leaves.push(sliceLeaves);
    await turn();
  }
  const subjects = { columns: [...SUBJECT_COLUMNS, 'head_id', 'sealed_subject'], rows: heads };
  return new PreparedKnexBatch(pseudonyms, subjects, emptyRows, ids, out.finish(), Buffer.concat(leaves));
}

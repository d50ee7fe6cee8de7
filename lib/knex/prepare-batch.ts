import { nextTurn, TurnTaker } from '../event-loop-turns';
import { GENESIS } from '../audit/chain';
import { recordsAfter } from '../audit/head-seal';
import { writeLeaf, LEAF_BYTES } from '../audit/log-leaf';
import type { BatchPlanner, PreparedBatch, WritePlan } from '../tracker/records';
import { HexBytes, hexBytesOrNull, insertStatements, type Statement } from './bulk-sql';
import { CHAIN_KEY_BYTES, chainKeyAt, EVENT_SLICE, foldedColumns, newChainKeys, newSubjectRow, RECORD_COLUMNS, skipStoredSubjects, SUBJECT_COLUMNS } from './batch-rows';
import { eventRow, idValue } from './event-rows';
import { releaseIds, reserveIds, type TableContext } from './chain-store';
import { OUTBOX_COLUMNS, outboxRows } from './lifecycle-queries';
import { isPostgres } from './migrate';
import { EVENT_COLUMNS, type Row } from './rows';
import { storedHex } from './row-codec';

/**
 * A batch planned and sealed before its transaction, every subject as a new one (`prepareBatch`).
 * It keeps only what its write sends: the plans and sealed events are gone once it is composed.
 */
export class PreparedKnexBatch implements PreparedBatch {
  constructor(
    readonly pseudonyms: readonly string[],
    /** The keys of the subjects' new chains (`newChainKeys`), in pseudonym order. */
    private readonly chainKeys: Buffer,
    /** The plain inserts of the new subject rows with their sealed heads: any conflict fails them. */
    readonly subjectRows: Statement[],
    /** The reserved ids of each subject's events, in pseudonym order (its plan has sealed them). */
    readonly ids: string[][],
    /** The events' inserts and the outbox entries of durable handlers. */
    readonly statements: Statement[],
    /** The log leaves of every event, in the order they were sealed. */
    readonly leaves: Buffer,
  ) {}

  /** The inserts of the new subject rows, skipping conflicts and returning what they created (`subjectInserts`). */
  get subjectInserts(): Statement[] {
    return this.subjectRows.map(({ sql, bindings }) => ({ sql: `${sql}${skipStoredSubjects()}`, bindings }));
  }

  /** The first and last reserved ids, or null when the batch has no events. */
  get idRange(): [string, string] | null {
    const withIds = this.ids.filter((ids) => ids.length > 0);
    const first = withIds[0]?.[0];
    const last = withIds[withIds.length - 1]?.at(-1);
    return first === undefined || last === undefined ? null : [first, last];
  }

  /** The row of the `i`th subject as created, its chain empty: where its plan started. */
  emptyRow(i: number): Row {
    const values = newSubjectRow(chainKeyAt(this.chainKeys, i), this.pseudonyms[i] as string);
    return Object.fromEntries(SUBJECT_COLUMNS.map((column, c) => [column, values[c]]));
  }
}

// Subjects planned, given their ids and sealed together. A slice is done with before the next is
// planned: what it allocated dies young instead of waiting for the whole batch. The event loop
// gets a turn about every millisecond of that work (`TurnTaker`), so that the statements of a
// large batch written meanwhile go on (each is sent once the one before has answered, which the
// event loop must handle); a write group, a fraction of a millisecond, runs without one, or the
// requests that arrived meanwhile would all be handled before its statements are sent.
const SLICE = 64;
// PostgreSQL reserves ids with a round trip: a slice of 512 subjects there.
const PG_SLICE = 512;

const HEAD_COLUMNS = [...SUBJECT_COLUMNS, 'head_id', 'sealed_subject', ...RECORD_COLUMNS];

/** The statements of a prepared batch, composed slice by slice as its rows are produced. */
class BatchStatements {
  readonly statements: Statement[] = [];
  readonly subjects: Statement[] = [];
  private events: unknown[][] = [];
  private heads: unknown[][] = [];
  private outbox: unknown[][] = [];

  constructor(private readonly ctx: TableContext) {}

  addEvent(row: unknown[]): void {
    this.events.push(row);
    if (this.events.length >= EVENT_SLICE) this.flushEvents();
  }

  addHead(row: unknown[]): void {
    this.heads.push(row);
    if (this.heads.length >= EVENT_SLICE) this.flushHeads();
  }

  /** The outbox entries of a subject's plan (durable handlers), given the ids of its sealed events. */
  addOutbox(chain: Buffer, plan: WritePlan, ids: readonly string[]): void {
    if (!plan.outbox?.length) return;
    this.outbox.push(...outboxRows(chain, plan.outbox, ids, Date.now()));
    if (this.outbox.length >= EVENT_SLICE) this.flushOutbox();
  }

  /** Every row is in a statement now. */
  finish(): void {
    this.flushEvents();
    this.flushOutbox();
    this.flushHeads();
  }

  private flushEvents(): void {
    this.statements.push(...insertStatements(this.ctx.knex, this.ctx.table('events'), EVENT_COLUMNS, this.events));
    this.events = [];
  }

  private flushOutbox(): void {
    this.statements.push(...insertStatements(this.ctx.knex, this.ctx.table('outbox'), OUTBOX_COLUMNS, this.outbox));
    this.outbox = [];
  }

  private flushHeads(): void {
    this.subjects.push(...insertStatements(this.ctx.knex, this.ctx.table('subjects'), HEAD_COLUMNS, this.heads));
    this.heads = [];
  }
}

// The batch being prepared, by tracker: one at a time, as each reserves its ids slice by slice;
// two at once would interleave their ids, and their transactions would plan both again.
const preparing = new WeakMap<TableContext, Promise<unknown>>();

/**
 * Plans `pseudonyms` (sorted, distinct) as new subjects, reserves their ids, seals their chains
 * and composes the statements of their rows, heads, records, events and outbox entries, outside
 * any transaction: exactly the ids and hashes that writing the subjects one after another would
 * produce, as every slice reserves its ids after the slice before it. Null when a plan throws:
 * the transaction then plans everything itself. Batches of one tracker
 * are prepared one after another, each with ids above the one before.
 */
export function prepareBatch(ctx: TableContext, pseudonyms: string[], plan: BatchPlanner): Promise<PreparedKnexBatch | null> {
  const run = (preparing.get(ctx) ?? Promise.resolve()).then(() => prepareSlices(ctx, pseudonyms, plan));
  preparing.set(ctx, run.catch(() => undefined));
  return run;
}

async function prepareSlices(ctx: TableContext, pseudonyms: string[], plan: BatchPlanner): Promise<PreparedKnexBatch | null> {
  const reserved: ReservedRange = {};
  const batch = await prepareReserving(ctx, pseudonyms, plan, reserved);
  // A batch given up after some of its slices reserved ids gives them back (when no later
  // reservation was made): the ids stay without gaps.
  if (batch === null && reserved.first !== undefined && reserved.last !== undefined) releaseIds(ctx, reserved.first, reserved.last);
  return batch;
}

/** The first and last ids a batch being prepared has reserved so far. */
interface ReservedRange {
  first?: string;
  last?: string;
}

/** `prepareSlices`, noting the ids it reserves in `range`. */
async function prepareReserving(ctx: TableContext, pseudonyms: string[], plan: BatchPlanner, range: ReservedRange): Promise<PreparedKnexBatch | null> {
  const chainKeys = newChainKeys(pseudonyms.length);
  const out = new BatchStatements(ctx);
  const ids: string[][] = [];
  const leaves: Buffer[] = [];
  const slice = isPostgres(ctx.knex) ? PG_SLICE : SLICE;
  const turns = new TurnTaker();
  for (let start = 0; start < pseudonyms.length; start += slice) {
    const end = Math.min(pseudonyms.length, start + slice);
    const plans: WritePlan[] = [];
    let events = 0;
    for (let i = start; i < end; i += 1) {
      const pseudonym = pseudonyms[i] as string;
      // What the snapshot of the row as created reads: an empty chain.
      const chain = chainKeys.toString('hex', CHAIN_KEY_BYTES * i, CHAIN_KEY_BYTES * (i + 1));
      const snapshot = { chain, pseudonym: storedHex(pseudonym), seq: 0, hash: GENESIS, headId: null, mac: '', records: [] };
      let subjectPlan;
      try {
        subjectPlan = plan(pseudonym, snapshot);
      } catch {
        return null;
      }
      plans.push(subjectPlan);
      events += subjectPlan.events.length;
      if (turns.due()) await nextTurn();
    }
    const reserved = await reserveIds(ctx, events);
    range.first ??= reserved[0];
    range.last = reserved.at(-1) ?? range.last;
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
      const chain = chainKeyAt(chainKeys, start + j);
      out.addOutbox(chain, subjectPlan, own);
      // A new subject's records are the plan's.
      const records = recordsAfter([], subjectPlan.records);
      out.addHead([
        chain, new HexBytes(pseudonyms[start + j] as string), new HexBytes(head.mac), idValue(head.id), hexBytesOrNull(subjectPlan.sealedSubject ?? null),
        ...foldedColumns(records),
      ]);
      if (turns.due()) await nextTurn();
    }
    leaves.push(sliceLeaves);
  }
  out.finish();
  return new PreparedKnexBatch(pseudonyms, chainKeys, out.subjects, ids, out.statements, Buffer.concat(leaves));
}

import type { Knex } from 'knex';
import { recordsAfter } from '../audit/head-seal';
import { encodeLeaves } from '../audit/log-leaf';
import type { SealedWrite, SubjectSnapshot, WritePlan } from '../tracker/records';
import { EVENT_SLICE, foldedColumns, newSubjectRows, RECORD_COLUMNS, scatterChainKeys, snapshotOf, subjectInserts, SUBJECT_COLUMNS, type Planned } from './batch-rows';
import { eventRow, idValue } from './event-rows';
import { HexBytes, hexBytesOrNull, insertStatements, upsertClause, variableLimit, type Statement } from './bulk-sql';
import { quote } from './quote';
import { idAllocator, idMarkColumn, reservedIdsFree, type TableContext } from './chain-store';
import { insertOutbox } from './lifecycle-queries';
import { withLogEntry } from './log-store';
import { addHeads } from './head-rows';
import { EVENT_COLUMNS, rawRows, type Row } from './rows';
import { bytes, hex } from './row-codec';
import type { PreparedKnexBatch } from './prepare-batch';
import { StatementPipeline } from './statement-pipeline';

/**
 * The plan of one subject of a batch, from its snapshot; null leaves the subject out (its
 * write was refused).
 */
export type SubjectPlanner = (pseudonym: string, snapshot: SubjectSnapshot) => WritePlan | null;

const HEAD_VALUES = ['head_id', 'head_mac', ...RECORD_COLUMNS] as const;

/** A plan without a sealed subject id (a sweep) keeps the stored one. */
const keepSealedSubject = (table: string): string =>
  `, ${quote('sealed_subject')} = coalesce(excluded.${quote('sealed_subject')}, ${quote(table)}.${quote('sealed_subject')})`;

/** Splits `items` into slices of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Locked subject rows by pseudonym, the pseudonyms whose rows this transaction created and, on
 * SQLite, the event id mark its inserts read when they created any row (null otherwise).
 */
interface LockedSubjects {
  rows: Map<string, Row>;
  created: Set<string>;
  idMark: number | null;
}

/**
 * Creates the missing subject rows, which are this transaction's alone until it commits, then
 * reads the other rows of `pseudonyms` (sorted), locked on PostgreSQL in pseudonym order. A
 * pseudonym an erasure unlinked while we waited for its lock is absent from the result: the
 * caller creates it again. With `prepared` (the inserts of a prepared batch's rows, which holds
 * them) the rows created are left out of the result.
 */
async function lockSubjects(ctx: TableContext, trx: Knex.Transaction, pseudonyms: string[], prepared: Statement[] | null = null): Promise<LockedSubjects> {
  const found = new Map<string, Row>();
  const fresh = prepared === null ? newSubjectRows(pseudonyms) : null;
  const created = new Set<string>();
  let idMark: number | null = null;
  for (const { sql, bindings } of prepared ?? subjectInserts(ctx, trx, SUBJECT_COLUMNS, fresh as unknown[][], idMarkColumn(ctx))) {
    for (const row of rawRows(await trx.raw(sql, bindings as Knex.RawBinding[]))) {
      created.add(hex(row.pseudonym));
      if (row.id_mark !== undefined) idMark = Number(row.id_mark);
    }
  }
  if (fresh !== null && created.size > 0) {
    for (const [i, pseudonym] of pseudonyms.entries()) {
      const values = fresh[i] as unknown[];
      if (created.has(pseudonym)) found.set(pseudonym, Object.fromEntries(SUBJECT_COLUMNS.map((column, c) => [column, values[c]])));
    }
  }
  const existing = pseudonyms.filter((p) => !created.has(p));
  for (const chunk of chunks(existing, variableLimit(trx) - 1)) {
    const read = (await trx(ctx.table('subjects')).whereIn('pseudonym', chunk.map(bytes)).orderBy('pseudonym').forUpdate()) as Row[];
    await addHeads(trx, ctx.table('events'), read);
    for (const row of read) found.set(hex(row.pseudonym), row);
  }
  return { rows: found, created, idMark };
}

/**
 * Reserves the ids of every event of the batch at once and seals the plans in order: exactly the
 * ids and hashes that writing the subjects one after another would have produced. The events
 * are queued for insertion slice by slice as they are sealed.
 */
async function sealAll(ctx: TableContext, trx: Knex.Transaction, planned: Planned[], pipeline: StatementPipeline, allocate: (count: number) => Promise<string[]>): Promise<SealedWrite[]> {
  const ids = await allocate(planned.reduce((sum, p) => sum + p.plan.events.length, 0));
  let offset = 0;
  let rows: unknown[][] = [];
  const sealed: SealedWrite[] = [];
  for (const p of planned) {
    const count = p.plan.events.length;
    const write = p.plan.seal(ids.slice(offset, offset + count));
    offset += count;
    sealed.push(write);
    for (const e of write.events) rows.push(eventRow(e));
    if (rows.length >= EVENT_SLICE) {
      pipeline.push(insertStatements(trx, ctx.table('events'), EVENT_COLUMNS, rows));
      rows = [];
      await pipeline.turn();
    }
  }
  pipeline.push(insertStatements(trx, ctx.table('events'), EVENT_COLUMNS, rows));
  return sealed;
}

/**
 * Plans every subject from its locked row, which holds its records, giving the event loop a turn
 * every `EVENT_SLICE` subjects (as sealing does): an import batch of thousands does not hold up
 * the requests of the process meanwhile.
 */
async function planAll(pseudonyms: string[], subjects: Row[], plan: SubjectPlanner, pipeline: StatementPipeline): Promise<Planned[]> {
  const planned: Planned[] = [];
  for (const [i, subject] of subjects.entries()) {
    const pseudonym = pseudonyms[i] as string;
    const snapshot = snapshotOf(subject);
    const subjectPlan = plan(pseudonym, snapshot);
    if (subjectPlan) planned.push({ pseudonym, subject, snapshot, plan: subjectPlan, records: recordsAfter(snapshot.records, subjectPlan.records) });
    if ((i + 1) % EVENT_SLICE === 0) await pipeline.turn();
  }
  return planned;
}

/** Queues the log entry and the chain heads of a sealed batch. */
function queueRows(ctx: TableContext, trx: Knex.Transaction, planned: Planned[], sealed: SealedWrite[], pipeline: StatementPipeline): void {
  // Every subject row exists and is locked: the upsert always takes its update branch. It names
  // every not-null column only because an INSERT must.
  const heads = planned.map(({ subject, plan, records }, i) => {
    const { head } = sealed[i] as SealedWrite;
    return [subject.chain, subject.pseudonym, new HexBytes(head.mac), idValue(head.id), hexBytesOrNull(plan.sealedSubject ?? null), ...foldedColumns(records)];
  });
  const subjects = ctx.table('subjects');
  const upsert = upsertClause(['chain'], HEAD_VALUES) + keepSealedSubject(subjects);
  pipeline.push(withLogEntry(ctx, insertStatements(trx, subjects, [...SUBJECT_COLUMNS, 'head_id', 'sealed_subject', ...RECORD_COLUMNS], heads, upsert), leavesOf(sealed)));
}

/**
 * The leaves of the batch's one log entry: all its events, in the order they were sealed. The
 * entry is the batch's only write outside its subjects' rows, and it touches no shared row.
 */
function leavesOf(sealed: SealedWrite[]): Buffer {
  return encodeLeaves(sealed.flatMap((s) => s.events));
}

/** Writes the outbox entries of the sealed batch, once their events' ids are known. */
async function writeOutbox(ctx: TableContext, trx: Knex.Transaction, planned: Planned[], sealed: SealedWrite[]): Promise<void> {
  const now = Date.now();
  for (const [i, { snapshot, plan }] of planned.entries()) {
    if (!plan.outbox?.length) continue;
    const eventIds = (sealed[i] as SealedWrite).events.map((e) => e.id);
    await insertOutbox(trx, (n) => ctx.table(n), snapshot.chain, plan.outbox, eventIds, now);
  }
}

/**
 * Every write of the Knex tracker, inside the caller's transaction: for each of `pseudonyms`
 * (sorted, distinct) the same rows as writing the subjects one after another, written with a
 * few multi-row statements for the whole batch. Resolves to the new event ids by pseudonym, for
 * the subjects that were planned. With `prepared` (the same pseudonyms, planned and sealed ahead
 * as new subjects), a batch whose subjects are all new and whose reserved ids are still free is
 * written as prepared; otherwise it is planned and sealed here as without it.
 *
 * @throws Error when a subject row vanishes twice while waiting for its lock (PostgreSQL).
 */
export async function writeBatch(
  ctx: TableContext,
  trx: Knex.Transaction,
  pseudonyms: string[],
  plan: SubjectPlanner,
  prepared: PreparedKnexBatch | null = null,
): Promise<Map<string, string[]>> {
  if (pseudonyms.length === 0) return new Map();
  const ahead = prepared !== null && samePseudonyms(prepared, pseudonyms) ? prepared : null;
  // A write first: on SQLite a transaction that has read cannot always start writing later.
  const { rows: subjects, created, idMark } = await lockSubjects(ctx, trx, pseudonyms, ahead?.subjectInserts ?? null);
  if (ahead !== null) {
    // Every subject new, as the prepared batch assumed, and its ids still free: write it.
    if (created.size === pseudonyms.length && (await idsFree(ctx, trx, ahead))) return writePrepared(ctx, trx, ahead);
    // Otherwise it is all planned again below: the created rows hold prepared heads that will
    // not be written, so their subjects are planned from the empty chains they start as.
    for (const [i, pseudonym] of ahead.pseudonyms.entries()) if (created.has(pseudonym)) subjects.set(pseudonym, ahead.emptyRow(i));
  }
  const allocate = idAllocator(ctx, trx, idMark);
  // A second round only for rows an erasure unlinked while we waited for their lock.
  const missing = pseudonyms.filter((p) => !subjects.has(p));
  if (missing.length > 0) {
    // Or for a chain key another writer took: the next keys come from elsewhere.
    scatterChainKeys();
    const again = await lockSubjects(ctx, trx, missing);
    for (const [p, row] of again.rows) subjects.set(p, row);
    for (const p of again.created) created.add(p);
  }
  const rows = pseudonyms.map((p) => {
    const row = subjects.get(p);
    if (!row) throw new Error('a subject row vanished twice while waiting for its lock');
    return row;
  });
  const { planned, sealed } = await inPipeline(trx, async (pipeline) => {
    const planned = await planAll(pseudonyms, rows, plan, pipeline);
    const sealed = await sealAll(ctx, trx, planned, pipeline, allocate);
    queueRows(ctx, trx, planned, sealed, pipeline);
    return { planned, sealed };
  });
  await writeOutbox(ctx, trx, planned, sealed);
  // A subject row this transaction created for a planner that then refused (say, for a subject
  // erased meanwhile) is not left behind, linked and empty.
  const written = new Set(planned.map((entry) => entry.pseudonym));
  const refused = [...created].filter((pseudonym) => !written.has(pseudonym));
  if (refused.length > 0) await trx(ctx.table('subjects')).whereIn('pseudonym', refused.map(bytes)).delete();
  return eventIdsOf(planned, sealed);
}

function samePseudonyms(prepared: PreparedKnexBatch, pseudonyms: string[]): boolean {
  return prepared.pseudonyms.length === pseudonyms.length && prepared.pseudonyms.every((p, i) => p === pseudonyms[i]);
}

/** Whether no other process took one of the ids reserved for a prepared batch. */
async function idsFree(ctx: TableContext, trx: Knex.Transaction, prepared: PreparedKnexBatch): Promise<boolean> {
  const range = prepared.idRange;
  return range === null || reservedIdsFree(ctx, trx, ...range);
}

/**
 * Writes a prepared batch whose subjects this transaction has just created with their heads:
 * its records and events as prepared, then its log entry.
 */
async function writePrepared(
  ctx: TableContext,
  trx: Knex.Transaction,
  ahead: PreparedKnexBatch,
): Promise<Map<string, string[]>> {
  await inPipeline(trx, (pipeline) => {
    // The subject rows were created with their heads: only the log entry is left.
    pipeline.push(withLogEntry(ctx, ahead.statements, ahead.leaves));
    return Promise.resolve();
  });
  return new Map(ahead.pseudonyms.map((p, i) => [p, ahead.ids[i] as string[]]));
}

/** Runs `work` with a statement pipeline on `trx`, and waits for every statement it queued. */
async function inPipeline<T>(trx: Knex.Transaction, work: (pipeline: StatementPipeline) => Promise<T>): Promise<T> {
  const pipeline = new StatementPipeline(trx);
  try {
    const result = await work(pipeline);
    await pipeline.drain();
    return result;
  } catch (error) {
    // A statement that failed makes what follows fail too: report it first.
    await pipeline.started();
    throw error;
  } finally {
    // Nothing may still run on the connection when the transaction rolls back.
    await pipeline.settle();
  }
}

function eventIdsOf(planned: Planned[], sealed: SealedWrite[]): Map<string, string[]> {
  return new Map(planned.map((p, i) => [p.pseudonym, (sealed[i] as SealedWrite).events.map((e) => e.id)]));
}

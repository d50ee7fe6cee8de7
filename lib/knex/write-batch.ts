import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { GENESIS } from '../audit/chain';
import type { CurrentRecord, LedgerTail, NewEvent, SealedWrite, SubjectSnapshot, WritePlan } from '../tracker/records';
import { insertStatements, quote, upsertClause, variableLimit, type Statement } from './bulk-sql';
import { allocateIds, LEDGER_KEY, lockLedger, type TableContext } from './chain-store';
import { insertOutbox } from './lifecycle-queries';
import { EVENT_COLUMNS, groupRecords, rawRows, type Row } from './rows';
import { StatementPipeline } from './statement-pipeline';

/**
 * The plan of one subject of a batch, from its snapshot; null leaves the subject out (its
 * write was refused).
 */
export type SubjectPlanner = (pseudonym: string, snapshot: SubjectSnapshot) => WritePlan | null;

/** One subject of a batch: its locked row, its snapshot and its plan. */
interface Planned {
  pseudonym: string;
  subject: Row;
  snapshot: SubjectSnapshot;
  plan: WritePlan;
}

const SUBJECT_COLUMNS = ['chain', 'pseudonym', 'seq', 'head_hash', 'head_mac', 'created_at'] as const;
const STATE_KEYS = ['chain', 'requirement'] as const;
const STATE_VALUES = [
  'decision', 'version', 'decided_at', 'expires_at', 'gpc_opt_in', 'pending_version', 'pending_at',
  'pending_expires_at', 'pending_token', 'expiry_recorded',
] as const;
const HEAD_VALUES = ['seq', 'head_hash', 'head_id', 'head_mac'] as const;

/** Splits `items` into slices of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A new chain's key: the creation time (milliseconds, 12 hex digits) then 80 random bits. New
 * chains therefore enter the chain-keyed indexes (events by chain and sequence, records by
 * chain) near their right edge, in pages that are already in the cache, instead of at random
 * places across indexes far larger than the cache: a long history keeps its write speed.
 */
function chainKey(now: number, random: string): string {
  return now.toString(16).padStart(12, '0') + random;
}

/** Locked subject rows by pseudonym, and the pseudonyms whose rows this transaction created. */
interface LockedSubjects {
  rows: Map<string, Row>;
  created: Set<string>;
}

/**
 * Creates the missing subject rows, which come back from the insert and are this transaction's
 * alone until it commits, then reads the other rows of `pseudonyms` (sorted), locked on
 * PostgreSQL in pseudonym order. A pseudonym an erasure unlinked while we waited for its lock
 * is absent from the result: the caller creates it again.
 */
async function lockSubjects(ctx: TableContext, trx: Knex.Transaction, pseudonyms: string[]): Promise<LockedSubjects> {
  const table = ctx.table('subjects');
  const now = Date.now();
  const random = randomBytes(10 * pseudonyms.length).toString('hex');
  const rows = pseudonyms.map((p, i) => [chainKey(now, random.slice(20 * i, 20 * i + 20)), p, 0, GENESIS, '', now]);
  const found = new Map<string, Row>();
  const suffix = ` on conflict (${quote('pseudonym')}) do nothing returning *`;
  for (const { sql, bindings } of insertStatements(trx, table, SUBJECT_COLUMNS, rows, suffix)) {
    for (const row of rawRows(await trx.raw(sql, bindings as Knex.RawBinding[]))) found.set(row.pseudonym as string, row);
  }
  const created = new Set(found.keys());
  const existing = pseudonyms.filter((p) => !created.has(p));
  for (const chunk of chunks(existing, variableLimit(trx) - 1)) {
    const read: Row[] = await trx(table).whereIn('pseudonym', chunk).orderBy('pseudonym').forUpdate();
    for (const row of read) found.set(row.pseudonym as string, row);
  }
  return { rows: found, created };
}

/** The stored records of `chains`, by chain. */
async function readRecords(ctx: TableContext, trx: Knex.Transaction, chains: string[]): Promise<Map<string, CurrentRecord[]>> {
  const byChain = new Map<string, CurrentRecord[]>();
  for (const chunk of chunks(chains, variableLimit(trx) - 1)) {
    groupRecords(await trx(ctx.table('states')).whereIn('chain', chunk), 'chain', byChain);
  }
  return byChain;
}

function snapshotOf(subject: Row, records: CurrentRecord[]): SubjectSnapshot {
  return {
    chain: subject.chain as string,
    seq: Number(subject.seq),
    hash: subject.head_hash as string,
    headId: subject.head_id === null || subject.head_id === undefined ? null : String(subject.head_id),
    records,
  };
}

// Events per INSERT while sealing: small enough that the database inserts one slice while the
// next is hashed, large enough that per-statement costs stay small.
const EVENT_SLICE = 1000;

// Ids as numbers where exact, which the statements write as literals instead of binding them.
function idValue(id: string | null): string | number | null {
  const n = Number(id);
  return id !== null && Number.isSafeInteger(n) ? n : id;
}

function eventRow(e: NewEvent): unknown[] {
  return [
    idValue(e.id), e.chain, e.seq, e.requirement, e.version, e.action, e.state, e.source, e.actor, e.at,
    e.note, e.data, e.ip, e.userAgent, e.personalDigest, idValue(e.prevId), e.prevHash, e.hash,
  ];
}

/**
 * Reserves the ids of every event of the batch at once and seals the plans in order, each new
 * chain taking the previous new chain's ledger entry as its tail: exactly the ids, hashes and
 * ledger entries that writing the subjects one after another would have produced. The events
 * are queued for insertion slice by slice as they are sealed.
 */
async function sealAll(ctx: TableContext, trx: Knex.Transaction, planned: Planned[], pipeline: StatementPipeline): Promise<SealedWrite[]> {
  const ids = await allocateIds(ctx, trx, planned.reduce((sum, p) => sum + p.plan.events.length, 0));
  const opensChain = (p: Planned) => p.snapshot.seq === 0 && p.plan.events.length > 0;
  let tail: LedgerTail | null = planned.some(opensChain) ? await lockLedger(ctx, trx) : null;
  let offset = 0;
  let rows: unknown[][] = [];
  const sealed: SealedWrite[] = [];
  for (const p of planned) {
    const count = p.plan.events.length;
    const write = p.plan.seal(ids.slice(offset, offset + count), opensChain(p) ? tail : null);
    offset += count;
    if (write.ledger) tail = { n: write.ledger.head.n, firstId: write.ledger.head.firstId };
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

/** Appends the record rows of `planned` to `rows`. */
function addStateRows({ snapshot, plan }: Planned, rows: unknown[][]): void {
  for (const r of plan.records) {
    rows.push([
      snapshot.chain, r.requirement, r.decision, r.version, r.decidedAt, r.expiresAt, r.gpcOptIn,
      r.pendingVersion, r.pendingAt, r.pendingExpiresAt, r.pendingToken, r.expiryRecorded,
    ]);
  }
}

/** The upserts of record rows. */
function stateStatements(ctx: TableContext, trx: Knex.Transaction, rows: unknown[][]): Statement[] {
  return insertStatements(trx, ctx.table('states'), [...STATE_KEYS, ...STATE_VALUES], rows, upsertClause(STATE_KEYS, STATE_VALUES));
}

/**
 * Plans every subject from its locked row and records. The records' upserts are queued slice by
 * slice as the plans are made: they need no id or hash, so the database writes them while the
 * rest of the batch is planned and sealed.
 */
async function planAll(
  ctx: TableContext,
  trx: Knex.Transaction,
  pseudonyms: string[],
  subjects: Row[],
  records: Map<string, CurrentRecord[]>,
  plan: SubjectPlanner,
  pipeline: StatementPipeline,
): Promise<Planned[]> {
  const planned: Planned[] = [];
  let rows: unknown[][] = [];
  for (const [i, subject] of subjects.entries()) {
    const pseudonym = pseudonyms[i] as string;
    const snapshot = snapshotOf(subject, records.get(subject.chain as string) ?? []);
    const subjectPlan = plan(pseudonym, snapshot);
    if (!subjectPlan) continue;
    const entry = { pseudonym, subject, snapshot, plan: subjectPlan };
    planned.push(entry);
    addStateRows(entry, rows);
    if (rows.length >= EVENT_SLICE) {
      pipeline.push(stateStatements(ctx, trx, rows));
      rows = [];
      await pipeline.turn();
    }
  }
  pipeline.push(stateStatements(ctx, trx, rows));
  return planned;
}

/** Queues the ledger entries and head, and the chain heads of a sealed batch. */
function queueRows(ctx: TableContext, trx: Knex.Transaction, planned: Planned[], sealed: SealedWrite[], pipeline: StatementPipeline): void {
  const ledger = sealed.flatMap((s) => (s.ledger ? [s.ledger] : []));
  if (ledger.length > 0) {
    const entries = ledger.map(({ entry }) => [entry.n, entry.chain, idValue(entry.firstId), idValue(entry.prevFirstId), entry.mac]);
    pipeline.push(insertStatements(trx, ctx.table('chains'), ['n', 'chain', 'first_id', 'prev_first_id', 'mac'], entries));
    const { head } = ledger[ledger.length - 1] as (typeof ledger)[number];
    const sql = `update ${quote(ctx.table('meta'))} set ${quote('value')} = ? where ${quote('key')} = ?`;
    pipeline.push([{ sql, bindings: [JSON.stringify(head), LEDGER_KEY] }]);
  }
  // Every subject row exists and is locked: the upsert always takes its update branch. It names
  // every not-null column only because an INSERT must.
  const heads = planned.map(({ subject }, i) => {
    const { head } = sealed[i] as SealedWrite;
    return [subject.chain, subject.pseudonym, head.seq, head.hash, head.mac, Number(subject.created_at), idValue(head.id)];
  });
  const subjects = ctx.table('subjects');
  pipeline.push(insertStatements(trx, subjects, [...SUBJECT_COLUMNS, 'head_id'], heads, upsertClause(['chain'], HEAD_VALUES)));
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
 * the subjects that were planned.
 *
 * @throws Error when a subject row vanishes twice while waiting for its lock (PostgreSQL).
 */
export async function writeBatch(
  ctx: TableContext,
  trx: Knex.Transaction,
  pseudonyms: string[],
  plan: SubjectPlanner,
): Promise<Map<string, string[]>> {
  if (pseudonyms.length === 0) return new Map();
  const { rows: subjects, created } = await lockSubjects(ctx, trx, pseudonyms);
  // A second round only for rows an erasure unlinked while we waited for their lock.
  const missing = pseudonyms.filter((p) => !subjects.has(p));
  if (missing.length > 0) {
    const again = await lockSubjects(ctx, trx, missing);
    for (const [p, row] of again.rows) subjects.set(p, row);
    for (const p of again.created) created.add(p);
  }
  const rows = pseudonyms.map((p) => {
    const row = subjects.get(p);
    if (!row) throw new Error('a subject row vanished twice while waiting for its lock');
    return row;
  });
  // A subject created by this transaction has no records yet.
  const records = await readRecords(ctx, trx, rows.filter((row) => !created.has(row.pseudonym as string)).map((row) => row.chain as string));
  const pipeline = new StatementPipeline(trx);
  let planned: Planned[];
  let sealed: SealedWrite[];
  try {
    planned = await planAll(ctx, trx, pseudonyms, rows, records, plan, pipeline);
    sealed = await sealAll(ctx, trx, planned, pipeline);
    queueRows(ctx, trx, planned, sealed, pipeline);
    await pipeline.drain();
  } catch (error) {
    // A queued statement that failed makes the statements after it fail too: report it first.
    await pipeline.drain();
    throw error;
  } finally {
    // Nothing may still run on the connection when the transaction rolls back.
    await pipeline.settle();
  }
  await writeOutbox(ctx, trx, planned, sealed);
  return new Map(planned.map((p, i) => [p.pseudonym, (sealed[i] as SealedWrite).events.map((e) => e.id)]));
}

import type { Knex } from 'knex';
import { encodeLeaves } from '../audit/log-leaf';
import type { ChainHead, SealedWrite, SubjectSnapshot, WritePlan } from '../tracker/records';
import { eventRow } from './event-rows';
import { insertStatements, runAll } from './bulk-sql';
import { withLogEntry } from './log-store';
import { isPostgres } from './migrate';
import { quote } from './quote';
import { bytes } from './row-codec';
import { EVENT_COLUMNS, rawRows, type Row } from './rows';
import type { TableContext } from './table-context';

export type { TableContext } from './table-context';

/**
 * Reserves ids for new events before they are hashed (the chain covers ids). PostgreSQL hands
 * them out from the table's own sequence; SQLite has one writer at a time, and its AUTOINCREMENT
 * high-water mark never hands out the id of a deleted newest event again.
 */
export async function allocateIds(ctx: TableContext, trx: Knex.Transaction, count: number): Promise<string[]> {
  if (count === 0) return [];
  return isPostgres(ctx.knex) ? sequenceIds(ctx, trx, count) : sqliteIds(ctx, await sqliteIdMark(ctx, trx), count);
}

/**
 * `allocateIds` for a batch whose event count is known only later. On SQLite the high-water
 * mark is read at once (it cannot move before the batch inserts its events), so the read runs
 * while the batch is being planned instead of after it, unless the transaction's first write
 * returned it (`known`, from `idMarkColumn`). Call it after the transaction's first write: an
 * SQLite transaction that began by reading may fail to start writing.
 */
export function idAllocator(ctx: TableContext, trx: Knex.Transaction, known: number | null = null): (count: number) => Promise<string[]> {
  if (isPostgres(ctx.knex)) return (count) => allocateIds(ctx, trx, count);
  // Read by the transaction's first write already (`idMarkColumn`): no statement of its own.
  if (known !== null) return (count) => Promise.resolve(count === 0 ? [] : sqliteIds(ctx, known, count));
  const mark = sqliteIdMark(ctx, trx);
  // Awaited by the allocation; a batch that allocates nothing must not leave it unhandled.
  mark.catch(() => undefined);
  return async (count) => (count === 0 ? [] : sqliteIds(ctx, await mark, count));
}

/**
 * Whether the ids `first` to `last`, reserved ahead by `reserveIds`, are still free. Sequence
 * values are never handed out twice; on SQLite another process sharing the file knows nothing
 * of this one's reservations.
 */
export async function reservedIdsFree(ctx: TableContext, trx: Knex.Transaction, first: string, last: string): Promise<boolean> {
  if (isPostgres(ctx.knex)) return true;
  return (await trx(ctx.table('events')).whereBetween('id', [Number(first), Number(last)]).first('id')) === undefined;
}

/**
 * Reserves `count` ids outside any transaction, for a batch sealed ahead of it. PostgreSQL takes
 * them from the sequence. On SQLite they are held in this process's memory, above every id it
 * has allocated or seen: its other writes allocate above them, and the batch's transaction
 * checks (`reservedIdsFree`) that no other process sharing the file took one meanwhile.
 */
export async function reserveIds(ctx: TableContext, count: number): Promise<string[]> {
  if (count === 0) return [];
  if (isPostgres(ctx.knex)) return sequenceIds(ctx, ctx.knex, count);
  const seen = ctx.idMark;
  if (!seen) throw new Error('reserveIds: this tracker keeps no id mark');
  await knowIdMark(ctx);
  const start = seen.high;
  seen.high += count;
  return idsAfter(start, count);
}

/**
 * SQLite: reads the stored id mark into `ctx.idMark` once, on a connection of the pool; the
 * reservations count on from it. Call it before holding the pool's only connection.
 */
export async function knowIdMark(ctx: TableContext): Promise<void> {
  const seen = ctx.idMark;
  if (!seen || seen.known === true || isPostgres(ctx.knex)) return;
  const stored = await sqliteIdMark(ctx, ctx.knex);
  // Another reservation may have been made while this one waited.
  seen.high = Math.max(seen.high, stored);
  seen.known = true;
}

/**
 * Gives back ids `first` to `last` reserved by `reserveIds` for a batch that wrote none of them
 * (its transaction rolled back), when no later reservation was made: the next writes use them,
 * and ids stay without gaps.
 */
export function releaseIds(ctx: TableContext, first: string, last: string): void {
  if (ctx.idMark?.high === Number(last)) ctx.idMark.high = Number(first) - 1;
}

// Ascending: a batch writes its subjects' events in the order of their ids (see newSubjectRows),
// and a query's rows come in no particular order without `order by`.
async function sequenceIds(ctx: TableContext, db: Knex, count: number): Promise<string[]> {
  const result: { rows: Row[] } = await db.raw(
    'select nextval(pg_get_serial_sequence(?, ?)) as id from generate_series(1, ?) order by id',
    [ctx.table('events'), 'id', count],
  );
  return result.rows.map((row) => String(row.id));
}

/**
 * The largest event id SQLite has ever handed out (stored or deleted), in one statement: every
 * write group asks, and each statement is a round trip to the driver.
 */
async function sqliteIdMark(ctx: TableContext, db: Knex): Promise<number> {
  const rows = rawRows(await db.raw(`select ${idMarkExpression(ctx)} as mark`));
  return Number(rows[0]?.mark ?? 0);
}

/** SQL for the largest event id SQLite has ever handed out (stored or deleted). */
export function idMarkExpression(ctx: TableContext): string {
  const events = ctx.table('events');
  const name = `'${events.replace(/'/g, "''")}'`;
  return `max(coalesce((select seq from sqlite_sequence where name = ${name}), 0), coalesce((select max(id) from ${quote(events)}), 0))`;
}

/**
 * On SQLite, a column for a write's `returning` clause that reads `sqliteIdMark` as the write
 * runs (`, <mark> as id_mark`), so that the transaction's first write also tells its id mark;
 * empty on PostgreSQL, whose ids come from a sequence.
 */
export function idMarkColumn(ctx: TableContext): string {
  return isPostgres(ctx.knex) ? '' : `, ${idMarkExpression(ctx)} as ${quote('id_mark')}`;
}

/** `count` ids above the stored mark and above every id this process reserved. */
function sqliteIds(ctx: TableContext, mark: number, count: number): string[] {
  const start = Math.max(mark, ctx.idMark?.high ?? 0);
  if (ctx.idMark) ctx.idMark.high = start + count;
  return idsAfter(start, count);
}

function idsAfter(start: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(start + i + 1));
}

/**
 * Seals a plan and writes its events, its log entry and the chain head inside `trx`. The caller
 * holds the subject's row lock.
 */
export async function writeSealed(
  ctx: TableContext,
  trx: Knex.Transaction,
  snapshot: SubjectSnapshot,
  plan: WritePlan,
): Promise<SealedWrite> {
  const ids = await allocateIds(ctx, trx, plan.events.length);
  const sealed = plan.seal(ids);
  const events = insertStatements(trx, ctx.table('events'), EVENT_COLUMNS, sealed.events.map(eventRow));
  await runAll(trx, withLogEntry(ctx, events, encodeLeaves(sealed.events)));
  await trx(ctx.table('subjects')).where({ chain: bytes(snapshot.chain) }).update(headColumns(sealed.head));
  return sealed;
}

function headColumns(head: ChainHead): Row {
  return { head_id: head.id, head_mac: bytes(head.mac) };
}

import type { Knex } from 'knex';
import type { ChainHead, LedgerHead, LedgerTail, SealedWrite, SubjectSnapshot, WritePlan } from '../tracker/records';
import { isPostgres } from './migrate';
import { fromEvent, type Row } from './rows';

/** What the chain helpers need from a Knex tracker. */
export interface TableContext {
  readonly knex: Knex;
  table(name: string): string;
}

// Knex writes a multi-row insert on SQLite as a compound SELECT, limited to 500 terms.
const EVENT_CHUNK = 250;
/** The meta key of the ledger's protected newest entry. */
export const LEDGER_KEY = 'ledger';

/**
 * Reserves ids for new events before they are hashed (the chain covers ids). PostgreSQL hands
 * them out from the table's own sequence; SQLite has one writer at a time, and its AUTOINCREMENT
 * high-water mark never hands out the id of a deleted newest event again.
 */
export async function allocateIds(ctx: TableContext, trx: Knex.Transaction, count: number): Promise<string[]> {
  if (count === 0) return [];
  const events = ctx.table('events');
  if (isPostgres(ctx.knex)) {
    const result: { rows: Row[] } = await trx.raw(
      'select nextval(pg_get_serial_sequence(?, ?)) as id from generate_series(1, ?)',
      [events, 'id', count],
    );
    return result.rows.map((row) => String(row.id));
  }
  const mark: Row | undefined = await trx('sqlite_sequence').where({ name: events }).first('seq');
  const max: Row | undefined = await trx(events).max({ max: 'id' }).first();
  const start = Math.max(Number(mark?.seq ?? 0), Number(max?.max ?? 0));
  return Array.from({ length: count }, (_, i) => String(start + i + 1));
}

/** The ledger's newest entry, locked until the transaction ends (chain creation is serialised). */
export async function lockLedger(ctx: TableContext, trx: Knex.Transaction): Promise<LedgerTail> {
  const meta = ctx.table('meta');
  const empty = JSON.stringify({ n: 0, firstId: null, mac: '' });
  await trx(meta).insert({ key: LEDGER_KEY, value: empty }).onConflict('key').ignore();
  const row: Row = await trx(meta).where({ key: LEDGER_KEY }).forUpdate().first('value');
  const head = JSON.parse(row.value as string) as LedgerHead;
  return { n: head.n, firstId: head.firstId };
}

export async function readLedgerHead(ctx: TableContext): Promise<LedgerHead | null> {
  const row: Row | undefined = await ctx.knex(ctx.table('meta')).where({ key: LEDGER_KEY }).first('value');
  return row ? (JSON.parse(row.value as string) as LedgerHead) : null;
}

/**
 * Seals a plan and writes its events, ledger entry and chain head inside `trx`. The caller holds
 * the subject's row lock.
 */
export async function writeSealed(
  ctx: TableContext,
  trx: Knex.Transaction,
  snapshot: SubjectSnapshot,
  plan: WritePlan,
): Promise<SealedWrite> {
  const ids = await allocateIds(ctx, trx, plan.events.length);
  const tail = snapshot.seq === 0 && plan.events.length > 0 ? await lockLedger(ctx, trx) : null;
  const sealed = plan.seal(ids, tail);
  for (let i = 0; i < sealed.events.length; i += EVENT_CHUNK) {
    await trx(ctx.table('events')).insert(sealed.events.slice(i, i + EVENT_CHUNK).map(fromEvent));
  }
  if (sealed.ledger) {
    const { entry, head } = sealed.ledger;
    await trx(ctx.table('chains')).insert({
      n: entry.n,
      chain: entry.chain,
      first_id: entry.firstId,
      prev_first_id: entry.prevFirstId,
      mac: entry.mac,
    });
    await trx(ctx.table('meta')).where({ key: LEDGER_KEY }).update({ value: JSON.stringify(head) });
  }
  await trx(ctx.table('subjects')).where({ chain: snapshot.chain }).update(headColumns(sealed.head));
  return sealed;
}

function headColumns(head: ChainHead): Row {
  return { seq: head.seq, head_hash: head.hash, head_id: head.id, head_mac: head.mac };
}

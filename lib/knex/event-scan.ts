import type { Knex } from 'knex';
import type { StoredEvent } from '../tracker/records';
import type { EventScanQuery, TrackerHistoryQuery } from '../tracker/tracker';
import type { TableContext } from './chain-store';
import { readJsonPage } from './json-page';
import { bytes } from './row-codec';
import { EVENT_COLUMNS, eventOfValues, pageColumns, toEvent, type Row } from './rows';

// Columns named with their table: a page selects `chain` as hex under the same name, and an
// ORDER BY (on SQLite, a WHERE too) would otherwise sort by that text instead of the index.
function pageQuery(ctx: TableContext, query: EventScanQuery): Knex.QueryBuilder {
  const events = ctx.table('events');
  const q = ctx.knex(events).orderBy([{ column: `${events}.chain` }, { column: `${events}.seq` }]).limit(query.limit);
  if (query.chain !== undefined) q.where(`${events}.chain`, bytes(query.chain));
  // A row-value comparison is one range scan on the (chain, seq) index in both databases.
  if (query.after) q.whereRaw('(??, ??) > (?, ?)', [`${events}.chain`, `${events}.seq`, bytes(query.after.chain), query.after.seq]);
  return q;
}

// Chain (column 1), then seq (column 2), strictly ascending.
const inOrder = (a: unknown[], b: unknown[]): boolean =>
  (a[1] as string) < (b[1] as string) || (a[1] === b[1] && (a[2] as number) < (b[2] as number));

/**
 * A keyset page of events in (chain, seq) order, read as one JSON text when the database can.
 * A JSON page's rows become events directly, without an object per row in between.
 */
export async function scanEventPage(ctx: TableContext, query: EventScanQuery): Promise<StoredEvent[]> {
  // One subject's events (a receipt, an export, its own check): on the application's connection.
  const on = query.chain === undefined ? ctx : { knex: ctx.knex };
  const values = await readJsonPage(on, pageQuery(ctx, query), pageColumns(ctx.knex, EVENT_COLUMNS, true), inOrder);
  if (values !== null) return values.map(eventOfValues);
  const rows: Row[] = await pageQuery(ctx, query).select([...EVENT_COLUMNS]);
  return rows.map(toEvent);
}

/** A subject's events, newest first (`ConsentTracker.history`): found through its pseudonym's row. */
export async function subjectHistory(ctx: TableContext, pseudonym: string, query: TrackerHistoryQuery): Promise<StoredEvent[]> {
  const q = ctx.knex(`${ctx.table('events')} as e`)
    .join(`${ctx.table('subjects')} as s`, 's.chain', 'e.chain')
    .where('s.pseudonym', bytes(pseudonym))
    .select('e.*')
    .orderBy('e.seq', 'desc')
    .limit(query.limit);
  if (query.requirement !== undefined) q.andWhere('e.requirement', query.requirement);
  if (query.beforeSeq !== undefined) q.andWhere('e.seq', '<', query.beforeSeq);
  const rows = (await q) as Row[];
  return rows.map(toEvent);
}

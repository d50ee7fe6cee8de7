import type { Knex } from 'knex';
import type { StoredEvent } from '../tracker/records';
import type { EventScanQuery } from '../tracker/tracker';
import type { TableContext } from './chain-store';
import { readJsonPage } from './json-page';
import { toEvent, type Row } from './rows';

const COLUMNS = [
  'id', 'chain', 'seq', 'requirement', 'version', 'action', 'state', 'source', 'actor', 'at',
  'note', 'data', 'ip', 'user_agent', 'personal_digest', 'prev_id', 'prev_hash', 'hash',
] as const;

function pageQuery(ctx: TableContext, query: EventScanQuery): Knex.QueryBuilder {
  const q = ctx.knex(ctx.table('events')).orderBy([{ column: 'chain' }, { column: 'seq' }]).limit(query.limit);
  if (query.chain !== undefined) q.where('chain', query.chain);
  // A row-value comparison is one range scan on the (chain, seq) index in both databases.
  if (query.after) q.whereRaw('(chain, seq) > (?, ?)', [query.after.chain, query.after.seq]);
  return q;
}

/** A row from its columns in `COLUMNS` order, as the plain select would have returned it. */
function rowOf(v: unknown[]): Row {
  return {
    id: v[0], chain: v[1], seq: v[2], requirement: v[3], version: v[4], action: v[5], state: v[6], source: v[7],
    actor: v[8], at: v[9], note: v[10], data: v[11], ip: v[12], user_agent: v[13], personal_digest: v[14],
    prev_id: v[15], prev_hash: v[16], hash: v[17],
  };
}

const inOrder = (a: unknown[], b: unknown[]): boolean =>
  (a[1] as string) < (b[1] as string) || (a[1] === b[1] && (a[2] as number) < (b[2] as number));

/** A keyset page of events in (chain, seq) order, read as one JSON text when the database can. */
export async function scanEventPage(ctx: TableContext, query: EventScanQuery): Promise<StoredEvent[]> {
  const values = await readJsonPage(ctx.knex, pageQuery(ctx, query), COLUMNS, inOrder);
  if (values !== null) return values.map((v) => toEvent(rowOf(v)));
  const rows: Row[] = await pageQuery(ctx, query);
  return rows.map(toEvent);
}

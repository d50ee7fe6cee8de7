import type { Knex } from 'knex';
import type { StoredEvent } from '../tracker/records';
import type { EventScanQuery } from '../tracker/tracker';
import type { TableContext } from './chain-store';
import { isPostgres } from './migrate';
import { toEvent, type Row } from './rows';

const COLUMNS = [
  'id', 'chain', 'seq', 'requirement', 'version', 'action', 'state', 'source', 'actor', 'at',
  'note', 'data', 'ip', 'user_agent', 'personal_digest', 'prev_id', 'prev_hash', 'hash',
] as const;

/** The database's function building a JSON array, or null where none is known. */
function jsonArrayFunction(knex: Knex): string | null {
  if (isPostgres(knex)) return 'json_build_array';
  return /sqlite/.test(String(knex.client.config.client ?? knex.client.dialect ?? '')) ? 'json_array' : null;
}

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

/**
 * A keyset page of events in (chain, seq) order. Each row travels as one JSON array: the
 * `sqlite3` driver builds a JavaScript object per row with one property per column on the
 * main thread, and `pg` parses every column on its own; for eighteen columns that was most of
 * the cost of `verify()`. JSON keeps every value's type (numbers as numbers, text as text,
 * null as null), so the events are the same as from the plain select. A page JSON cannot
 * carry (an SQLite BLOB written behind the library's back) or a database without the
 * function is read the plain way.
 */
export async function scanEventPage(ctx: TableContext, query: EventScanQuery): Promise<StoredEvent[]> {
  const fn = jsonArrayFunction(ctx.knex);
  if (fn !== null) {
    let rows: Row[] | null = null;
    try {
      rows = await pageQuery(ctx, query).select(ctx.knex.raw(`${fn}(${COLUMNS.map(() => '??').join(', ')}) as e`, [...COLUMNS]));
    } catch {
      // Read again below, the plain way; a database that is down fails there too.
    }
    if (rows !== null) {
      return rows.map((row) => toEvent(rowOf((typeof row.e === 'string' ? JSON.parse(row.e) : row.e) as unknown[])));
    }
  }
  const rows: Row[] = await pageQuery(ctx, query);
  return rows.map(toEvent);
}

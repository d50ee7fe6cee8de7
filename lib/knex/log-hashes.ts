import type { Knex } from 'knex';
import { quote } from './quote';
import { isPostgres } from './migrate';
import { HASH_BYTES, type IdRun } from './packed-leaves';
import type { Row } from './rows';

/*
 * The chain hashes of the events a log entry names (see packed-leaves.ts): read from the events
 * table by id, a run of consecutive ids as one range of its primary key, many runs in one
 * statement. An id no event has (an event deleted behind the library's back) reads as 32 zero
 * bytes, which no chain hash is: the log's tree then no longer matches its sealed head, and the
 * verification names the id.
 */

// Ids asked for in one statement: runs are cut to fit, so an import's entry of thousands of
// events is a few statements and the text of one answer stays a few megabytes.
const IDS_PER_STATEMENT = 16_384;

interface TableContext {
  readonly knex: Knex;
  table(name: string): string;
}

/** `runs` cut into pieces of at most `IDS_PER_STATEMENT` ids, grouped into statements of about that many. */
function statementsOf(runs: readonly IdRun[]): IdRun[][] {
  const groups: IdRun[][] = [];
  let group: IdRun[] = [];
  let ids = 0;
  for (const run of runs) {
    for (let from = 0; from < run.count; from += IDS_PER_STATEMENT) {
      const piece = { first: run.first + BigInt(from), count: Math.min(IDS_PER_STATEMENT, run.count - from) };
      if (ids + piece.count > IDS_PER_STATEMENT && group.length > 0) {
        groups.push(group);
        group = [];
        ids = 0;
      }
      group.push(piece);
      ids += piece.count;
    }
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

const last = (run: IdRun): bigint => run.first + BigInt(run.count - 1);

// An id bound as a number where it is exact, so that SQLite compares it with the integer key as is.
const sqliteId = (id: bigint): number | string => (id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id.toString());

/**
 * Per run: how many of its ids are stored events, and their hashes in id order (hex on SQLite),
 * one aggregate per run. Rejects where the database has no ordered aggregate (SQLite before 3.44).
 */
async function aggregates(db: Knex, ctx: TableContext, runs: readonly IdRun[]): Promise<Array<{ n: number; hashes: Buffer }>> {
  const events = quote(ctx.table('events'));
  if (isPostgres(db)) {
    const list = (values: bigint[]) => `{${values.join(',')}}`;
    const result: { rows: Row[] } = await db.raw(
      `select r.i, count(e.id)::int as n, string_agg(e.hash, ''::bytea order by e.id) as h
       from unnest(?::bigint[], ?::bigint[]) with ordinality as r(lo, hi, i)
       left join ${events} as e on e.id between r.lo and r.hi group by r.i`,
      [list(runs.map((r) => r.first)), list(runs.map(last))],
    );
    const byRun = new Map(result.rows.map((row) => [Number(row.i) - 1, row]));
    return runs.map((_, i) => {
      const row = byRun.get(i);
      return { n: Number(row?.n ?? 0), hashes: Buffer.isBuffer(row?.h) ? row.h : Buffer.alloc(0) };
    });
  }
  const values = runs.map(() => '(?, ?, ?)').join(', ');
  const rows: Row[] = await db.raw(
    `with r(i, lo, hi) as (values ${values})
     select r.i as i, count(e.id) as n, group_concat(hex(e.hash), '' order by e.id) as h
     from r left join ${events} as e on e.id between r.lo and r.hi group by r.i`,
    runs.flatMap((r, i) => [i, sqliteId(r.first), sqliteId(last(r))]),
  );
  const byRun = new Map(rows.map((row) => [Number(row.i), row]));
  return runs.map((_, i) => {
    const row = byRun.get(i);
    return { n: Number(row?.n ?? 0), hashes: Buffer.from(typeof row?.h === 'string' ? row.h : '', 'hex') };
  });
}

/** The hashes of one run read row by row: zeros for an id with no event. */
async function rowByRow(db: Knex, ctx: TableContext, run: IdRun): Promise<Buffer> {
  const out = Buffer.alloc(run.count * HASH_BYTES);
  const rows = (await db(ctx.table('events')).select('id', 'hash').whereBetween('id', [run.first.toString(), last(run).toString()])) as Row[];
  for (const row of rows) {
    const at = BigInt(String(row.id)) - run.first;
    const hash = row.hash;
    if (at >= 0n && at < BigInt(run.count) && Buffer.isBuffer(hash) && hash.length === HASH_BYTES) hash.copy(out, Number(at) * HASH_BYTES);
  }
  return out;
}

/**
 * The hashes of the events of `runs`, 32 bytes per id in the runs' order (zeros where no event
 * has the id), read inside `db` (the sealer's transaction, or the tracker's Knex).
 */
export async function runHashes(db: Knex, ctx: TableContext, runs: readonly IdRun[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const group of statementsOf(runs)) {
    let found: Array<{ n: number; hashes: Buffer }> | null;
    try {
      found = await aggregates(db, ctx, group);
    } catch (error) {
      // SQLite before 3.44 has no ORDER BY inside an aggregate: row by row there.
      if (isPostgres(db)) throw error;
      found = null;
    }
    for (const [i, run] of group.entries()) {
      const read = found?.[i];
      // Every id a stored event, read in id order: the usual case. Else row by row, so that
      // each hash lands at its own id.
      parts.push(read !== undefined && read.n === run.count && read.hashes.length === run.count * HASH_BYTES ? read.hashes : await rowByRow(db, ctx, run));
    }
  }
  return Buffer.concat(parts);
}

import type { Knex } from 'knex';
import { quote } from './quote';
import { isPostgres } from './migrate';
import { HASH_BYTES, idsIn, leavesOfRuns, type IdRun } from './packed-leaves';
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
// Runs in one statement: three bindings each on SQLite, whose limit is 32,766.
const RUNS_PER_STATEMENT = 4_096;

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
      if ((ids + piece.count > IDS_PER_STATEMENT || group.length >= RUNS_PER_STATEMENT) && group.length > 0) {
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

/** PostgreSQL's array literal of ids (integers the library parsed, so nothing to escape). */
const idArray = (values: readonly bigint[]): string => `{${values.join(',')}}`;

/** The runs as a relation `r(i, lo, hi)` to join the events with: its SQL and bindings. */
function runsRelation(db: Knex, runs: readonly IdRun[]): { sql: string; bindings: Knex.RawBinding[] } {
  if (isPostgres(db)) {
    return {
      sql: 'select i - 1 as i, lo, hi from unnest(?::bigint[], ?::bigint[]) with ordinality as u(lo, hi, i)',
      bindings: [idArray(runs.map((r) => r.first)), idArray(runs.map(last))],
    };
  }
  return { sql: `values ${runs.map(() => '(?, ?, ?)').join(', ')}`, bindings: runs.flatMap((r, i) => [i, sqliteId(r.first), sqliteId(last(r))]) };
}

// Knex instances whose SQLite has no ORDER BY inside an aggregate (before 3.44): read row by row.
const unordered = new WeakSet<Knex>();

/**
 * Per run: how many of its ids are stored events with a hash of 32 bytes, and their hashes in
 * id order (hex on SQLite), one aggregate per run. Null where the database has no ordered
 * aggregate (SQLite before 3.44).
 */
async function aggregates(db: Knex, ctx: TableContext, runs: readonly IdRun[]): Promise<Array<{ n: number; hashes: Buffer }> | null> {
  if (unordered.has(ctx.knex)) return null;
  const events = quote(ctx.table('events'));
  const postgres = isPostgres(db);
  const hashes = postgres ? "string_agg(e.hash, ''::bytea order by e.id)" : "group_concat(hex(e.hash), '' order by e.id)";
  const relation = runsRelation(db, runs);
  let rows: Row[];
  try {
    const result: unknown = await db.raw(
      `with r(i, lo, hi) as (${relation.sql})
       select r.i as i, count(e.id) as n, min(length(e.hash)) as shortest, max(length(e.hash)) as longest, ${hashes} as h
       from r left join ${events} as e on e.id between r.lo and r.hi group by r.i`,
      relation.bindings,
    );
    rows = postgres ? (result as { rows: Row[] }).rows : (result as Row[]);
  } catch (error) {
    if (postgres || !/syntax error|near "order"/i.test(String((error as Error | null)?.message))) throw error;
    unordered.add(ctx.knex);
    return null;
  }
  const byRun = new Map(rows.map((row) => [Number(row.i), row]));
  return runs.map((_, i) => {
    const row = byRun.get(i);
    const whole = Number(row?.shortest) === HASH_BYTES && Number(row?.longest) === HASH_BYTES;
    const h = row?.h;
    const read = Buffer.isBuffer(h) ? h : Buffer.from(typeof h === 'string' ? h : '', 'hex');
    return { n: whole ? Number(row?.n ?? 0) : -1, hashes: read };
  });
}

/**
 * The hashes of `runs` read as rows, in one statement, each put at its id's place: zeros for an
 * id with no event, or whose stored hash is not 32 bytes.
 */
async function rowByRow(db: Knex, ctx: TableContext, runs: readonly IdRun[]): Promise<Buffer[]> {
  const out = runs.map((run) => Buffer.alloc(run.count * HASH_BYTES));
  const relation = runsRelation(db, runs);
  const result: unknown = await db.raw(
    `with r(i, lo, hi) as (${relation.sql})
     select r.i as i, ${isPostgres(db) ? 'e.id::text' : 'e.id'} as id, e.hash as hash from r join ${quote(ctx.table('events'))} as e on e.id between r.lo and r.hi`,
    relation.bindings,
  );
  const rows = isPostgres(db) ? (result as { rows: Row[] }).rows : (result as Row[]);
  for (const row of rows) {
    const i = Number(row.i);
    const run = runs[i];
    const hash = row.hash;
    if (run === undefined || !Buffer.isBuffer(hash) || hash.length !== HASH_BYTES) continue;
    const at = BigInt(String(row.id)) - run.first;
    if (at >= 0n && at < BigInt(run.count)) hash.copy(out[i] as Buffer, Number(at) * HASH_BYTES);
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
    const found = await aggregates(db, ctx, group);
    // Every id a stored event, read in id order: the usual case. The other runs are read as
    // rows, together, so that each hash lands at its own id.
    const complete = group.map((run, i) => {
      const read = found?.[i];
      return read !== undefined && read.n === run.count && read.hashes.length === run.count * HASH_BYTES ? read.hashes : null;
    });
    const others = group.filter((_, i) => complete[i] === null);
    const rows = others.length === 0 ? [] : await rowByRow(db, ctx, others);
    let next = 0;
    for (const hashes of complete) parts.push(hashes ?? (rows[next++] as Buffer));
  }
  return Buffer.concat(parts);
}

/**
 * The plain leaves of each piece: leaves stored with their hashes as they are, runs of ids with
 * their events' hashes, all of them read in one statement or a few.
 */
export async function plainLeaves(db: Knex, ctx: TableContext, pieces: ReadonlyArray<Buffer | readonly IdRun[]>): Promise<Buffer[]> {
  const runs = pieces.flatMap((piece) => (Buffer.isBuffer(piece) ? [] : piece));
  const hashes = runs.length === 0 ? Buffer.alloc(0) : await runHashes(db, ctx, runs);
  let at = 0;
  return pieces.map((piece) => {
    if (Buffer.isBuffer(piece)) return piece;
    const count = idsIn(piece);
    const leaves = leavesOfRuns(piece, hashes.subarray(at * HASH_BYTES, (at + count) * HASH_BYTES));
    at += count;
    return leaves;
  });
}

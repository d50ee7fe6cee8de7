import type { Knex } from 'knex';
import { LEAF_BYTES } from '../audit/log-leaf';
import { HEAD_MISSING, LogHeadError } from '../audit/log-seal';
import type { LeafPosition, LogBlock, LogBlockQuery, LogEntry, LogFold, LogHead } from '../tracker/records';
import type { Statement } from './bulk-sql';
import { quote } from './quote';
import { isPostgres } from './migrate';
import { plainLeaves } from './log-hashes';
import { idsIn, packLeaves, readStored, sliceRuns, type IdRun } from './packed-leaves';
import type { Row } from './rows';

/*
 * The global log in SQL. Each write transaction appends one row to `<prefix>log`: its events'
 * leaves, keyed by (tx, part). On SQLite `tx` is the row's AUTOINCREMENT id, handed out by the
 * one writer in commit order. On PostgreSQL it is the writer's transaction id: writers never
 * touch a shared row, and ids below the oldest transaction still running (the snapshot's
 * xmin) can no longer appear, so a sealer folds windows [mark, xmin) in id order and never
 * skips an entry that committed late. The sealed head lives in the meta row `log`.
 */

/** The meta key of the log's sealed head. */
export const LOG_KEY = 'log';
// Entries per page of a seal: at most this many, sized after each page to hold about
// `SEAL_PAGE_LEAVES` leaves (an entry holds one write's events, or an import batch's thousands,
// each leaf's hash read from its event).
const ENTRY_PAGE = 500;
const SEAL_PAGE_LEAVES = 16_384;
const BLOCK_COLUMNS = ['idx', 'hash', 'entry_tx', 'entry_part', 'start_offset', 'min_id', 'max_id'];

/** What the log's queries need from a Knex tracker. */
interface TableContext {
  readonly knex: Knex;
  table(name: string): string;
}

/** The statement that appends a transaction's log entry (nothing for no leaves). */
export function logEntryStatements(ctx: TableContext, leaves: Buffer): Statement[] {
  if (leaves.length === 0) return [];
  return [{ sql: `insert into ${quote(ctx.table('log'))} (${quote('leaves')}) values (?)`, bindings: [packLeaves(leaves)] }];
}

/**
 * `statements` with the transaction's log entry appended too. On PostgreSQL the entry rides on
 * the first insert as a data-modifying WITH clause: one statement, so one round trip, fewer
 * per write (SQLite runs in the process and takes no WITH insert).
 */
export function withLogEntry(ctx: TableContext, statements: Statement[], leaves: Buffer): Statement[] {
  const [entry] = logEntryStatements(ctx, leaves);
  if (entry === undefined) return statements;
  const first = statements.findIndex((s) => /^insert /i.test(s.sql));
  if (!isPostgres(ctx.knex) || first < 0) return [entry, ...statements];
  const host = statements[first] as Statement;
  const merged = { sql: `with ${quote('log_entry')} as (${entry.sql}) ${host.sql}`, bindings: [...entry.bindings, ...host.bindings] };
  return statements.map((s, i) => (i === first ? merged : s));
}

const keyOf = (row: Row): string => `${String(row.tx)}:${String(row.part)}`;

/** A log entry's key as its `tx` and `part`. */
export function parseKey(key: string): [string, number] {
  const match = /^(\d{1,19}):(\d{1,9})$/.exec(key);
  if (!match) throw new Error(`not a log entry key: ${key}`);
  return [match[1] as string, Number(match[2])];
}

const asBuffer = (value: unknown): Buffer => (Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array));

/**
 * The entries of `rows`, each with its plain leaves: the hashes of those stored as ids read from
 * the events, all of the page's in one statement or a few.
 */
async function toEntries(db: Knex, ctx: TableContext, rows: readonly Row[]): Promise<LogEntry[]> {
  const pieces = rows.map((row) => {
    const stored = readStored(asBuffer(row.leaves));
    return 'leaves' in stored ? stored.leaves : stored.runs;
  });
  const leaves = await plainLeaves(db, ctx, pieces);
  return rows.map((row, i) => ({ key: keyOf(row), leaves: leaves[i] as Buffer }));
}

function parseHead(value: unknown): LogHead | null {
  if (value === undefined || value === null || value === '') return null;
  try {
    return JSON.parse(value as string) as LogHead;
  } catch {
    // Unreadable: no seal can check, as for any head changed without the secret.
    throw new LogHeadError();
  }
}

export async function readLogHead(ctx: TableContext): Promise<LogHead | null> {
  const row: Row | undefined = await ctx.knex(ctx.table('meta')).where({ key: LOG_KEY }).first('value');
  return parseHead(row?.value);
}

/** Which entries to read: after a key (or from one, inclusive), with `tx` in [fromTx, belowTx). */
interface EntryRange {
  after?: string;
  at?: string;
  fromTx?: string;
  belowTx?: string;
}

/** Entries of `range` in key order. */
async function entries(db: Knex, ctx: TableContext, range: EntryRange, limit: number): Promise<LogEntry[]> {
  return toEntries(db, ctx, await entryRows(db, ctx, range, limit));
}

/** The stored rows of the entries of `range` in key order. */
async function entryRows(db: Knex, ctx: TableContext, range: EntryRange, limit: number): Promise<Row[]> {
  const q = db(ctx.table('log')).select('tx', 'part', 'leaves').orderBy([{ column: 'tx' }, { column: 'part' }]).limit(limit);
  const from = range.after ?? range.at;
  if (from !== undefined) {
    const [tx, part] = parseKey(from);
    const op = range.after !== undefined ? '>' : '>=';
    q.where((w) => {
      void w.where('tx', '>', tx).orWhere((x) => {
        void x.where('tx', tx).andWhere('part', op, part);
      });
    });
  }
  if (range.fromTx !== undefined) q.where('tx', '>=', range.fromTx);
  if (range.belowTx !== undefined) q.where('tx', '<', range.belowTx);
  return (await q) as Row[];
}

export function scanLogEntries(ctx: TableContext, query: { after?: string; limit: number }): Promise<LogEntry[]> {
  return entries(ctx.knex, ctx, { after: query.after }, query.limit);
}

/**
 * Where a seal starts and ends, and the mark it leaves. SQLite: after the last sealed entry, up
 * to whatever is there (the seal holds the write lock); the mark is the last entry's key ('' for
 * the head of an empty log).
 * PostgreSQL: from the mark (every entry below it is sealed) to the snapshot's xmin, below
 * which no transaction is still running; the mark becomes that xmin.
 */
async function window(ctx: TableContext, trx: Knex.Transaction, head: LogHead | null): Promise<{ range: EntryRange; mark: (last: LogEntry | null) => string }> {
  // The head of an empty log marks no entry ('').
  if (!isPostgres(ctx.knex)) return { range: { after: head?.mark || undefined }, mark: (last) => last?.key ?? head?.mark ?? '' };
  const result: { rows: Row[] } = await trx.raw(SEALABLE_BELOW);
  const bound = (result.rows[0] as Row).bound as string;
  return { range: { fromTx: head?.mark ?? '0', belowTx: bound }, mark: () => bound };
}

/**
 * PostgreSQL: the transaction id below which no transaction of this database is still running.
 * The oldest running transaction of the whole server (the snapshot's xmin) would do, but would
 * hold sealing back while another database's transaction stays open; so it is the oldest id
 * in progress at the snapshot that still holds its lock in this database, else the snapshot's
 * xmax. A transaction that ends between the two reads is finished when the entries are read
 * (a later statement); one that starts after the snapshot has an id at or above its xmax.
 * txid_* rather than pg_* (PostgreSQL 13+): the same 64-bit ids on every supported release.
 */
const SEALABLE_BELOW = `
  with snap as (select txid_current_snapshot() as s),
  ours as (
    select l.transactionid::text::bigint as xid
    from pg_locks l join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'transactionid' and l.mode = 'ExclusiveLock' and l.granted and a.datname = current_database()
  )
  select coalesce(
    (select min(x) from snap, txid_snapshot_xip(snap.s) as x where x % 4294967296 in (select xid from ours)),
    (select txid_snapshot_xmax(s) from snap)
  )::text as bound`;

function blockRow(block: LogBlock): unknown[] {
  const [tx, part] = parseKey(block.start.entry);
  return [block.index, Buffer.from(block.hash, 'hex'), tx, part, block.start.offset, block.minId, block.maxId];
}

/** `ConsentTracker.sealLog` on SQL: one sealer at a time, under the head row's lock. */
export function sealLog(ctx: TableContext, fold: LogFold): Promise<LogHead | null> {
  return ctx.knex.transaction((trx) => foldLog(ctx, trx, fold));
}

/** `sealLog` inside `trx` (an upgrade's seal folds its log in its own transaction). */
export async function foldLog(ctx: TableContext, trx: Knex.Transaction, fold: LogFold): Promise<LogHead | null> {
  const meta = ctx.table('meta');
  // A write first: on SQLite it takes the write lock, so no writer appends while we seal.
  await trx(meta).insert({ key: LOG_KEY, value: '' }).onConflict('key').ignore();
  const row: Row = await trx(meta).where({ key: LOG_KEY }).forUpdate().first('value');
  const head = parseHead(row.value);
  fold.begin(head);
  const { range, mark } = await window(ctx, trx, head);
  let last: LogEntry | null = null;
  for (let limit = 1; ;) {
    const page = await entries(trx, ctx, last === null ? range : { ...range, after: last.key }, limit);
    const blocks: LogBlock[] = [];
    for (const entry of page) blocks.push(...fold.add(entry));
    for (let i = 0; i < blocks.length; i += 100) {
      const rows = blocks.slice(i, i + 100).map((b) => Object.fromEntries(blockRow(b).map((v, c) => [BLOCK_COLUMNS[c] as string, v])));
      await trx(ctx.table('log_blocks')).insert(rows);
    }
    last = page[page.length - 1] ?? last;
    if (page.length < limit) break;
    const leaves = page.reduce((sum, entry) => sum + entry.leaves.length / LEAF_BYTES, 0);
    limit = Math.max(1, Math.min(ENTRY_PAGE, Math.floor((SEAL_PAGE_LEAVES * page.length) / Math.max(1, leaves))));
  }
  if (last === null && head !== null) return head;
  // An empty log is sealed too, once: from then on a log without a head has lost it. Entries
  // past the window (PostgreSQL: a transaction still running holds the bound back) with no
  // head are refused here, as the fold refuses those in it.
  if (last === null && fold.startsLog !== true && (await trx(ctx.table('log')).first('tx')) !== undefined) throw new LogHeadError(HEAD_MISSING);
  const sealed = fold.end(mark(last));
  await trx(meta).where({ key: LOG_KEY }).update({ value: JSON.stringify(sealed) });
  return sealed;
}

function toBlock(row: Row): LogBlock {
  return {
    index: Number(row.idx),
    hash: asBuffer(row.hash).toString('hex'),
    start: { entry: `${String(row.entry_tx)}:${String(row.entry_part)}`, offset: Number(row.start_offset) },
    minId: String(row.min_id),
    maxId: String(row.max_id),
  };
}

export async function scanLogBlocks(ctx: TableContext, query: LogBlockQuery): Promise<LogBlock[]> {
  const q = ctx.knex(ctx.table('log_blocks')).select(BLOCK_COLUMNS).orderBy('idx').limit(query.limit);
  if (query.from !== undefined) q.where('idx', '>=', query.from);
  if (query.containing !== undefined) q.where('min_id', '<=', query.containing).andWhere('max_id', '>=', query.containing);
  return ((await q) as Row[]).map(toBlock);
}

// Entries read at first for a run of leaves, and at most per read: one entry may hold a whole
// import batch (thousands of leaves) or a single write's one to three.
const FIRST_ENTRIES = 1;
const MAX_ENTRIES = 64;

/**
 * Up to `count` leaves from a stored position, reading as many entries as they span: the entry
 * at the position first, then as many as the leaves still wanted fill at the size of the
 * entries read so far, so that a block inside a large entry (an import's) reads that entry
 * alone, and one spread over many small entries (single writes') takes few reads.
 */
export async function readLogLeaves(ctx: TableContext, query: { from: LeafPosition; count: number }): Promise<Buffer> {
  const parts: Buffer[] = [];
  let wanted = query.count;
  let offset = query.from.offset;
  let range: EntryRange = { at: query.from.entry };
  let limit = FIRST_ENTRIES;
  let read = { entries: 0, leaves: 0 };
  while (wanted > 0) {
    const rows = await entryRows(ctx.knex, ctx, range, limit);
    // The leaves wanted of each entry; of one stored as ids, only those ids' hashes are read.
    const pieces: Array<Buffer | IdRun[]> = [];
    for (const row of rows) {
      const stored = readStored(asBuffer(row.leaves));
      let take: number;
      if ('leaves' in stored) {
        // Stored with the hashes: cut by bytes (an entry altered to hold part of a leaf shifts what follows, and the proof fails).
        const piece = stored.leaves.subarray(offset * LEAF_BYTES, (offset + wanted) * LEAF_BYTES);
        pieces.push(piece);
        take = piece.length / LEAF_BYTES;
        read = { entries: read.entries + 1, leaves: read.leaves + stored.leaves.length / LEAF_BYTES };
      } else {
        const size = idsIn(stored.runs);
        take = Math.max(0, Math.min(Math.floor(wanted), size - offset));
        pieces.push(sliceRuns(stored.runs, offset, offset + take));
        read = { entries: read.entries + 1, leaves: read.leaves + size };
      }
      wanted -= take;
      offset = 0;
      if (wanted <= 0) break;
    }
    parts.push(...(await plainLeaves(ctx.knex, ctx, pieces)));
    if (rows.length < limit) break;
    range = { after: keyOf(rows[rows.length - 1] as Row) };
    limit = Math.min(MAX_ENTRIES, Math.max(1, Math.ceil(wanted / Math.max(1, read.leaves / read.entries))));
  }
  return Buffer.concat(parts);
}

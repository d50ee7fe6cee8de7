import type { Knex } from 'knex';
import type { AudienceEntry, AudienceQuery, AudienceRowsPage } from '../tracker/audience-capability';
import { AUDIENCE_HEX_AT, AUDIENCE_ROW_COLUMNS, audienceEntriesOfRows } from '../tracker/audience-rows';
import type { SubjectSnapshot } from '../tracker/records';
import { bytesList } from './bulk-sql';
import type { TableContext } from './chain-store';
import { headColumns, joinHead } from './head-rows';
import { readJsonPage, readJsonRowsText, readJsonText } from './json-page';
import { isPostgres } from './migrate';
import { bytes, hex, hexOrNull } from './row-codec';
import { quote } from './quote';
import { hexColumn, NOT_BYTES_TEXT, pageColumns, type Row } from './rows';

// A subject row with its head, link, sealed id and records, in `AUDIENCE_ROW_COLUMNS` order:
// the records as the row stores them (`records`), the columns of a record apart null.
const SUBJECT_SIDE = new Set(['chain', 'pseudonym', 'seq', 'head_hash', 'head_id', 'head_mac', 'sealed_subject', 'records']);
const NO_VALUE = 'null';
const JOINED_COLUMNS: Record<string, string> = Object.fromEntries(AUDIENCE_ROW_COLUMNS.map((c) => [c, SUBJECT_SIDE.has(c) ? `s.${c}` : NO_VALUE]));
const JOINED_NAMES = Object.keys(JOINED_COLUMNS);
// The same without the sealed id (null): a lookup by pseudonym does not decrypt it.
const SNAPSHOT_COLUMNS: Record<string, string> = { ...JOINED_COLUMNS, sealed_subject: NO_VALUE };
// The subject columns, the head's position and hash read from its newest event (which `head_id` names).
const subjectColumns = (subjects: string, sealed: boolean): Record<string, string> => ({
  ...Object.fromEntries(['chain', 'pseudonym'].map((c) => [c, `${subjects}.${c}`])),
  ...headColumns(),
  ...Object.fromEntries(['head_id', 'head_mac', 'records', ...(sealed ? ['sealed_subject'] : [])].map((c) => [c, `${subjects}.${c}`])),
});
// A page's chain and pseudonym (`JOINED_NAMES`), to check a page's order: one row per subject.
const CHAIN_AT = JOINED_NAMES.indexOf('chain');
const PSEUDONYM_AT = JOINED_NAMES.indexOf('pseudonym');
const byChain = (a: unknown[], b: unknown[]): boolean => (a[CHAIN_AT] as string) < (b[CHAIN_AT] as string);
const byPseudonym = (a: unknown[], b: unknown[]): boolean => (a[PSEUDONYM_AT] as string) < (b[PSEUDONYM_AT] as string);
const HEX_AT = new Set(AUDIENCE_HEX_AT);

/**
 * The entries of a page read as `first` (as one JSON page when the database can; read again as
 * `ordered` when the rows did not come in the order `before` checks): rows of `columns` (in
 * `JOINED_NAMES` order), one per subject with its records. A JSON page, because an object per
 * row cost more than the query. A keyset page reads its chain keys strictly (`keysetColumns`),
 * read again or not.
 */
async function subjectEntries(
  ctx: TableContext,
  first: Knex.QueryBuilder,
  ordered: Knex.QueryBuilder,
  columns: Record<string, string>,
  before: (a: unknown[], b: unknown[]) => boolean,
  keyset = false,
): Promise<AudienceEntry[]> {
  let values = await readJsonPage(ctx, first, keyset ? keysetColumns(ctx.knex, columns) : pageColumns(ctx.knex, columns), before);
  if (values === null) {
    const rows: Row[] = await ordered.select(columns);
    values = rows.map((row) => JOINED_NAMES.map((name, i) => {
      if (!HEX_AT.has(i)) return row[name];
      // A key that is not bytes reads as no hex, as `keysetColumns` reads it.
      if (keyset && i === CHAIN_AT && !Buffer.isBuffer(row[name]) && row[name] !== null && row[name] !== undefined) return NOT_BYTES_TEXT;
      return hexOrNull(row[name]);
    }));
  }
  return audienceEntriesOfRows(values);
}

/**
 * The selection of a keyset page (`columns` as `pageColumns` reads them), its chain key read
 * strictly (see `hexColumn`). SQLite sorts a key held as another type than bytes apart from the
 * others (text before every blob), so a page cut at it would leave out the subjects between: read
 * as no hex, it fails its seal instead, and the listing stops (`verify()` reports it).
 */
function keysetColumns(knex: Knex, columns: Record<string, string>): Record<string, string | Knex.Raw> {
  return { ...pageColumns(knex, columns), chain: hexColumn(knex, columns.chain as string, 'chain', true) };
}

/** The subjects `subjects` selects (a query of the subjects table with their heads), as `s`, and the same ordered by `key`. */
function joinedSubjects(ctx: TableContext, subjects: Knex.QueryBuilder, keyset: boolean): { q: Knex.QueryBuilder; ordered: Knex.QueryBuilder } {
  const q = ctx.knex.from(subjects.as('s'));
  return { q, ordered: q.clone().orderBy(keyset ? 's.chain' : 's.pseudonym') };
}

/** The subjects table with each row's head event joined, selecting what a snapshot needs (and, for a keyset page, the sealed id). */
function subjectsWithHeads(ctx: TableContext, keyset: boolean): Knex.QueryBuilder {
  const subjects = ctx.table('subjects');
  return joinHead(ctx.knex(subjects), ctx.table('events'), subjects).select(subjectColumns(subjects, keyset));
}

// A keyset page of SQLite read in one pass: the subjects with their heads joined (the head's
// position and hash straight from its event).
const RANGE_COLUMNS: Record<string, string> = { ...JOINED_COLUMNS, ...headColumns() };
/**
 * The same without the sealed id, in `AUDIENCE_ROW_COLUMNS` order: the columns of a lookup of
 * the subjects table as `s` joined to its head (`joinHead`).
 */
export const LOOKUP_COLUMNS: Readonly<Record<string, string>> = { ...RANGE_COLUMNS, sealed_subject: NO_VALUE };

/**
 * A keyset page of SQLite: the linked subjects after the key up to the page's last one (the
 * `limit`-th, or the table's last when fewer are left), read in one pass of the primary key
 * with their heads. It comes in chain order: no sort, and no copy of the page's subjects, which
 * cost more than the join (the order is checked all the same). Returns the query and the same ordered.
 */
function sqliteKeysetPage(ctx: TableContext, query: AudienceQuery): { q: Knex.QueryBuilder; ordered: Knex.QueryBuilder; full: Knex.Raw } {
  const subjects = ctx.table('subjects');
  const after = query.after === undefined ? undefined : bytes(query.after);
  const linked = ctx.knex(subjects).select('chain').whereNotNull('pseudonym').orderBy('chain').limit(1).offset(query.limit - 1);
  if (after !== undefined) linked.where('chain', '>', after);
  const last = ctx.knex.raw('coalesce(?, ?)', [linked, ctx.knex(subjects).max('chain')]);
  const q = joinHead(ctx.knex(`${subjects} as s`), ctx.table('events'), 's')
    .whereNotNull('s.pseudonym')
    .where('s.chain', '<=', last);
  if (after !== undefined) q.where('s.chain', '>', after);
  // Full when the page ends at its `limit`-th subject.
  return { q, ordered: q.clone().orderBy('s.chain'), full: ctx.knex.raw('(?) is not null', [linked]) };
}

/** A PostgreSQL keyset page of linked subjects, in order. */
function postgresKeysetPage(ctx: TableContext, query: AudienceQuery): Knex.QueryBuilder {
  const subjects = ctx.table('subjects');
  // Qualified: the joined head event has a chain column too.
  const chain = `${subjects}.chain`;
  const page = subjectsWithHeads(ctx, true).whereNotNull(`${subjects}.pseudonym`).orderBy(chain).limit(query.limit);
  if (query.after !== undefined) page.where(chain, '>', bytes(query.after));
  return joinedSubjects(ctx, page, true).ordered;
}

/** A keyset page of linked subjects, each with its whole snapshot: a range of the subjects' primary key. */
export function audiencePage(ctx: TableContext, query: AudienceQuery): Promise<AudienceEntry[]> {
  if (!isPostgres(ctx.knex)) {
    const { q, ordered } = sqliteKeysetPage(ctx, query);
    return subjectEntries(ctx, q, ordered, RANGE_COLUMNS, byChain, true);
  }
  const ordered = postgresKeysetPage(ctx, query);
  return subjectEntries(ctx, ordered, ordered, JOINED_COLUMNS, byChain, true);
}

/** The page `audiencePage` reads, as rows in JSON text (`AudienceRowsPage`); null when it cannot be read so (see `readJsonText`). */
export async function audienceRows(ctx: TableContext, query: AudienceQuery): Promise<AudienceRowsPage | null> {
  const page = isPostgres(ctx.knex)
    ? { q: postgresKeysetPage(ctx, query), columns: JOINED_COLUMNS, full: ctx.knex.raw('count(*) = ?', [query.limit]) }
    : { ...sqliteKeysetPage(ctx, query), columns: RANGE_COLUMNS };
  const read = await readJsonText(ctx, page.q, keysetColumns(ctx.knex, page.columns), 'chain', page.full, query.limit);
  return read === null ? null : { rows: read.text, last: read.last, full: read.full };
}

// The bytes of a pseudonym the library makes (an HMAC-SHA-256).
const PSEUDONYM_BYTES = 32;

/**
 * The pseudonyms bound as one blob of their bytes end to end (its count first, then the blob),
 * cut into a row each (column `p`) by a recursive CTE.
 */
const CUT_PSEUDONYMS = `(with recursive k(i) as (select 0 union all select i + 1 from k where i + 1 < ?) select substr(?, i * ${String(PSEUDONYM_BYTES)} + 1, ${String(PSEUDONYM_BYTES)}) as p from k)`;

/**
 * The IN list of a lookup by pseudonym. On SQLite, pseudonyms as the library makes them are
 * bound as one blob (`CUT_PSEUDONYMS`): the driver took a thousand literals in (a statement of
 * 68 kB) more slowly than the database looked them up. Otherwise a list of literals. Repeats
 * are left in: the database reads each subject once.
 */
function pseudonymList(knex: Knex, pseudonyms: readonly string[]): { sql: string; bindings: Array<number | Buffer> } {
  const packed = isPostgres(knex) ? null : pseudonymBytes(pseudonyms);
  return packed === null ? bytesList(knex, pseudonyms) : { sql: CUT_PSEUDONYMS, bindings: [pseudonyms.length, packed] };
}

/** The snapshots of the subjects linked to `pseudonyms`, in the order asked (null for none), by the pseudonyms' index. */
export async function readSnapshots(ctx: TableContext, pseudonyms: readonly string[]): Promise<Array<SubjectSnapshot | null>> {
  if (pseudonyms.length === 0) return [];
  const list = pseudonymList(ctx.knex, pseudonyms);
  const lookup = subjectsWithHeads(ctx, false).whereRaw(`${quote(ctx.table('subjects'))}.${quote('pseudonym')} in ${list.sql}`, list.bindings);
  const { ordered } = joinedSubjects(ctx, lookup, false);
  const found = new Map<string, SubjectSnapshot>();
  // On the readers once lookups have read as much as a store-wide scan (`filterAllowed()` over
  // a long list): several batches are then read at once while the caller checks the ones before.
  for (const { snapshot } of await subjectEntries(ctx, ordered, ordered, SNAPSHOT_COLUMNS, byPseudonym)) found.set(snapshot.pseudonym, snapshot);
  return pseudonyms.map((pseudonym) => found.get(pseudonym) ?? null);
}

/** The bytes of `pseudonyms` end to end, or null unless each is a pseudonym as the library makes them (64 lowercase hex digits). */
function pseudonymBytes(pseudonyms: readonly string[]): Buffer | null {
  for (const p of pseudonyms) if (typeof p !== 'string' || p.length !== PSEUDONYM_BYTES * 2) return null;
  const text = pseudonyms.join('');
  const packed = Buffer.from(text, 'hex');
  // Written back the same only when every character was a lowercase hex digit.
  return packed.toString('hex') === text ? packed : null;
}

/**
 * The table of the pseudonyms `packed` holds end to end, as a column `p` of bytes: on SQLite
 * cut from the blob (`CUT_PSEUDONYMS`), on PostgreSQL an array of their hex texts decoded.
 */
function askedTable(knex: Knex, packed: Buffer): Knex.Raw {
  const n = packed.length / PSEUDONYM_BYTES;
  if (isPostgres(knex)) {
    const hexes: string[] = [];
    for (let i = 0; i < n; i += 1) hexes.push(packed.toString('hex', i * PSEUDONYM_BYTES, (i + 1) * PSEUDONYM_BYTES));
    return knex.raw(`(select decode(x, 'hex') as p from unnest(?::text[]) as x) as asked`, [`{${hexes.join(',')}}`]);
  }
  return knex.raw(`${CUT_PSEUDONYMS} as asked`, [n, packed]);
}

/**
 * What `readSnapshots` reads, as rows in JSON text (`SNAPSHOT_COLUMNS`, in no set order): every
 * pseudonym asked, each joined to the subject it names and its head, and one row
 * with a null chain for a pseudonym no subject is linked to (so that a row left out never reads
 * as "no subject"). Null when it cannot be read so (see `readJsonRowsText`), or for pseudonyms
 * the library does not make.
 */
export function snapshotRows(ctx: TableContext, pseudonyms: readonly string[]): Promise<string | null> {
  const distinct = [...new Set(pseudonyms)];
  if (distinct.length === 0) return Promise.resolve('[]');
  const packed = pseudonymBytes(distinct);
  if (packed === null) return Promise.resolve(null);
  const subjects = ctx.table('subjects');
  // Each pseudonym asked, with the subject it names and its head (nulls for none).
  const asked = joinHead(ctx.knex.from(askedTable(ctx.knex, packed)).leftJoin(subjects, `${subjects}.pseudonym`, 'asked.p'), ctx.table('events'), subjects)
    .select({ ...subjectColumns(subjects, false), pseudonym: 'asked.p' });
  return readJsonRowsText(ctx, joinedSubjects(ctx, asked, false).q, pageColumns(ctx.knex, SNAPSHOT_COLUMNS), distinct.length);
}

/** Stores the sealed id of the subject linked to `pseudonym`; false when none is. */
export async function storeSealedSubject(ctx: TableContext, pseudonym: string, seal: (chain: string) => string): Promise<boolean> {
  const subjects = ctx.table('subjects');
  const key = bytes(pseudonym);
  const row: Row | undefined = await ctx.knex(subjects).where({ pseudonym: key }).first('chain');
  if (!row) return false;
  const chain = hex(row.chain);
  // Only while the chain is still the subject's: an erasure in between unlinks it.
  const updated = await ctx.knex(subjects).where({ chain: bytes(chain), pseudonym: key }).update({ sealed_subject: bytes(seal(chain)) });
  return updated > 0;
}

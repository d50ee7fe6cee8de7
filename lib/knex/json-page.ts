import type { Knex } from 'knex';
import { lowerHexAt } from '../tracker/audience-rows';
import { clientName, isPostgres } from './migrate';
import type { PageReader } from './page-reader';
import { isByteColumn, type Row } from './rows';

/** The database's functions building a JSON array of values and of rows, or null where none is known. */
function jsonFunctions(knex: Knex): { row: string; page: string } | null {
  if (isPostgres(knex)) return { row: 'json_build_array', page: 'json_agg' };
  return /sqlite/.test(clientName(knex)) ? { row: 'json_array', page: 'json_group_array' } : null;
}

/** Where a page is read: the Knex instance (or transaction), and the reader of a tracker's store-wide scans. */
export interface PageSource {
  readonly knex: Knex;
  readonly pages?: PageReader;
}

/** Selected columns: names, or output names mapped to the columns (or expressions) they select. */
export type PageColumns = readonly string[] | Readonly<Record<string, string | Knex.Raw>>;

const isList = (columns: PageColumns): columns is readonly string[] => Array.isArray(columns);

/** The names a page's rows have, in order. */
const columnNames = (columns: PageColumns): string[] => (isList(columns) ? [...columns] : Object.keys(columns));

/** `columns` as Knex's `select` takes them. */
const selection = (columns: PageColumns): string[] | Record<string, string | Knex.Raw> => (isList(columns) ? [...columns] : { ...columns });

/** Lowers in place the hex digits SQLite gave for the byte columns (`hexColumn`) of `rows`. */
function lowerHex(rows: unknown[][], names: readonly string[]): void {
  const at: number[] = [];
  for (let i = 0; i < names.length; i += 1) if (isByteColumn(names[i] as string)) at.push(i);
  if (at.length === 0) return;
  for (const row of rows) lowerHexAt(row, at);
}

/**
 * The rows of `query` (ordered and limited, without a select) as arrays of `columns`' values,
 * read as one JSON text for the whole page. The drivers build a JavaScript object per row
 * with a property per column (on the main thread, for `sqlite3`), which cost several times
 * what the database spent reading the rows; one text per page costs one `JSON.parse`. JSON
 * keeps each value's type (numbers, text, null).
 *
 * Returns null when the page must be read the plain way: the database has no JSON functions,
 * a value JSON cannot carry (an SQLite BLOB written behind the library's back) made the
 * query fail, or the rows did not come out in the order `before` asks for (an aggregate over
 * an ordered subquery keeps that order in both databases, but neither promises it).
 */
export async function readJsonPage(
  on: PageSource,
  query: Knex.QueryBuilder,
  columns: PageColumns,
  before: (a: unknown[], b: unknown[]) => boolean,
): Promise<unknown[][] | null> {
  const { knex } = on;
  const fn = jsonFunctions(knex);
  if (fn === null) return null;
  const read = await pageOf(on, pageStatement(knex, fn, query, columns));
  if (read === null) return null;
  const page = read.page ?? null;
  const names = columnNames(columns);
  const rows = (typeof page === 'string' ? JSON.parse(page) : page ?? []) as unknown[][];
  on.pages?.read(rows.length);
  if (!isPostgres(knex)) lowerHex(rows, names);
  for (let i = 1; i < rows.length; i += 1) {
    if (!before(rows[i - 1] as unknown[], rows[i] as unknown[])) return null;
  }
  return rows;
}

/** The statement of a page: `query`'s rows of `columns` aggregated into one JSON value (`text`: as text on PostgreSQL too). */
function pageStatement(knex: Knex, fn: { row: string; page: string }, query: Knex.QueryBuilder, columns: PageColumns, text = false): Knex.QueryBuilder {
  const names = columnNames(columns);
  const values = `${fn.row}(${names.map(() => '??').join(', ')})`;
  const page = text && isPostgres(knex) ? `${fn.page}(${values})::text` : `${fn.page}(${values})`;
  return knex.select(knex.raw(`${page} as page`, names)).from(query.clone().select(selection(columns)).as('p'));
}

/**
 * The rows of `query` as `readJsonPage` reads them, left as JSON text (`[]` for none) for a
 * worker thread to parse, in whatever order they came; `counted` is what the page counts for in
 * `PageReader.read`. Null when the page must be read the plain way (see `readJsonPage`).
 */
export async function readJsonRowsText(on: PageSource, query: Knex.QueryBuilder, columns: PageColumns, counted: number): Promise<string | null> {
  const { knex } = on;
  const fn = jsonFunctions(knex);
  if (fn === null) return null;
  const read = await pageOf(on, pageStatement(knex, fn, query, columns, true));
  if (read === null) return null;
  const page = read.page ?? null;
  if (page !== null && typeof page !== 'string') return null;
  on.pages?.read(counted);
  return page ?? '[]';
}

/**
 * The rows of `query` as `readJsonPage` reads them, left as the JSON text for a worker thread to
 * parse, with the greatest value of the column `key` (by its bytes, as hex: the key the caller
 * pages on) and the value of `full`, a condition of the caller's (whether the page holds all the
 * rows it may). Null when the database has no JSON functions or the statement failed (see
 * `readJsonPage`). The rows' order is the reader's to check; `counted` is what the page counts
 * for in `PageReader.read`, its rows not being counted here.
 */
export async function readJsonText(
  on: PageSource,
  query: Knex.QueryBuilder,
  columns: PageColumns,
  key: string,
  full: Knex.Raw,
  counted: number,
): Promise<{ text: string; last: string | null; full: boolean } | null> {
  const { knex } = on;
  const fn = jsonFunctions(knex);
  if (fn === null) return null;
  const names = columnNames(columns);
  const values = `${fn.row}(${names.map(() => '??').join(', ')})`;
  // One value, so that the readers' connections can run it: "1 last rows", or "0 last rows".
  const page = isPostgres(knex)
    ? `(case when ? then '1 ' else '0 ' end) || coalesce(max(?? collate "C"), '') || ' ' || coalesce(${fn.page}(${values})::text, '[]')`
    : `(case when ? then '1 ' else '0 ' end) || coalesce(max(??), '') || ' ' || ${fn.page}(${values})`;
  const statement = knex.select(knex.raw(`${page} as page`, [full, key, ...names])).from(query.clone().select(selection(columns)).as('p'));
  const read = await pageOf(on, statement);
  const value = read?.page;
  const space = typeof value === 'string' ? value.indexOf(' ', 2) : -1;
  if (typeof value !== 'string' || space < 0 || (!value.startsWith('1 ') && !value.startsWith('0 '))) return null;
  on.pages?.read(counted);
  const last = value.slice(2, space).toLowerCase();
  return { text: value.slice(space + 1), last: last === '' ? null : last, full: value.startsWith('1') };
}

/**
 * The value of a page's statement: on the reader's connections when it has them (the usual
 * way when they fail), or null when the statement failed (see `readJsonPage`).
 */
async function pageOf(on: PageSource, statement: Knex.QueryBuilder): Promise<{ page: unknown } | null> {
  const runner = (await on.pages?.runner()) ?? null;
  if (runner !== null) {
    const { sql, bindings } = statement.toSQL();
    try {
      return { page: await runner.page(sql, bindings) };
    } catch {
      // read the usual way
    }
  }
  try {
    const result = (await statement) as Array<{ page: unknown }>;
    return { page: result[0]?.page };
  } catch {
    // Read again the plain way; a database that is down fails there too.
    return null;
  }
}

/** The order of a page whose rows start with their key (hex, in one case): strictly ascending. */
export const byFirstValue = (a: unknown[], b: unknown[]): boolean => (a[0] as string) < (b[0] as string);

/** A row from its values in `names` order. */
function rowOf(names: readonly string[], values: unknown[]): Row {
  const row: Row = {};
  for (let i = 0; i < names.length; i += 1) row[names[i] as string] = values[i];
  return row;
}

/** The rows of `query` (ordered and limited, without a select): as one JSON text when it can, else the plain way. */
export async function readRows(
  on: PageSource,
  query: Knex.QueryBuilder,
  columns: PageColumns,
  before: (a: unknown[], b: unknown[]) => boolean,
): Promise<Row[]> {
  const values = await readJsonPage(on, query, columns, before);
  if (values === null) return query.select(selection(columns));
  const names = columnNames(columns);
  return values.map((v) => rowOf(names, v));
}

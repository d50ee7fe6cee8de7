import type { Knex } from 'knex';
import { isPostgres } from './migrate';
import { quote } from './quote';

// Bound variables per statement: SQLite's default limit since 3.32 (every release of the
// `sqlite3` and `better-sqlite3` packages the peer ranges allow bundles a later SQLite), and the
// 16-bit parameter count of PostgreSQL's wire protocol.
const SQLITE_VARIABLES = 32_766;
const PG_VARIABLES = 65_535;

/** How many values one statement may bind on this database. */
export function variableLimit(knex: Knex): number {
  return isPostgres(knex) ? PG_VARIABLES : SQLITE_VARIABLES;
}

// Strings that cannot end or escape a quoted literal (no quote, no backslash, whatever
// PostgreSQL's standard_conforming_strings says): ids, hashes, chain keys, enum values.
const PLAIN = /^[A-Za-z0-9_.:-]*$/;

/**
 * Bytes given as hex (a digest, a chain key), for a statement that writes them as a literal
 * straight from that text: no Buffer is made only to be printed back as hex.
 */
export class HexBytes {
  constructor(readonly hex: string) {}
}

/** `value` (hex) as `HexBytes`; null stays null. */
export const hexBytesOrNull = (value: string | null): HexBytes | null => (value === null ? null : new HexBytes(value));

// Lowercase hex, which can be written into a literal as it is (in whole bytes: see `isHex`).
const HEX = /^[0-9a-f]*$/;
const isHex = (text: string): boolean => text.length % 2 === 0 && HEX.test(text);

/** A bytes literal: `x'…'` on SQLite, `decode('…', 'hex')` on PostgreSQL (whatever its string settings). */
function bytesLiteral(hex: string, postgres: boolean): string {
  return postgres ? `decode('${hex}', 'hex')` : `x'${hex}'`;
}

/**
 * `(…)` listing `hexes` as bytes, for an IN list: literals where the value is lowercase hex, so
 * that neither Knex nor the driver handles hundreds of bound Buffers one by one; bound otherwise.
 */
export function bytesList(knex: Knex, hexes: readonly string[]): { sql: string; bindings: Buffer[] } {
  const postgres = isPostgres(knex);
  // The usual list, every value lowercase hex in whole bytes, is checked and written at once:
  // a literal built and checked one value at a time cost more than the rest of the statement.
  if (hexes.length > 0 && hexes.every((hex) => typeof hex === 'string' && hex.length % 2 === 0) && HEX.test(hexes.join(''))) {
    return { sql: postgres ? `(decode('${hexes.join("', 'hex'),decode('")}', 'hex'))` : `(x'${hexes.join("',x'")}')`, bindings: [] };
  }
  const bindings: Buffer[] = [];
  const items = hexes.map((hex) => {
    if (isHex(hex)) return bytesLiteral(hex, postgres);
    bindings.push(Buffer.from(hex, 'hex'));
    return '?';
  });
  return { sql: `(${items.join(',')})`, bindings };
}

/**
 * One `(…)` tuple of a VALUES list, of the values at `present` only. Null, safe integers,
 * booleans (both databases read `true`/`false`), plain strings and bytes (a Buffer or
 * `HexBytes`) are written as literals, which costs the drivers far less than binding them one
 * by one; every other value is bound.
 */
function tuple(values: readonly unknown[], present: readonly number[], bindings: unknown[], postgres: boolean): string {
  let text = '(';
  for (let i = 0; i < present.length; i += 1) {
    const value = values[present[i] as number];
    if (i > 0) text += ',';
    if (value === null) text += 'null';
    else if (typeof value === 'boolean') text += value ? 'true' : 'false';
    else if (typeof value === 'number' && Number.isSafeInteger(value)) text += String(value);
    else if (typeof value === 'string' && PLAIN.test(value)) text += `'${value}'`;
    else if (value instanceof HexBytes && isHex(value.hex)) text += bytesLiteral(value.hex, postgres);
    else if (Buffer.isBuffer(value)) text += bytesLiteral(value.toString('hex'), postgres);
    else if (value instanceof HexBytes) {
      // Not lowercase hex: bound as the bytes it decodes to, as a Buffer made from it would be.
      text += '?';
      bindings.push(Buffer.from(value.hex, 'hex'));
    } else {
      text += '?';
      bindings.push(value);
    }
  }
  return `${text})`;
}

/** The indexes of the columns that hold a value in at least one of `rows[start, end)`. */
function presentColumns(rows: ReadonlyArray<readonly unknown[]>, start: number, end: number, width: number): number[] {
  const present: number[] = [];
  for (let c = 0; c < width; c += 1) {
    for (let i = start; i < end; i += 1) {
      if ((rows[i] as readonly unknown[])[c] !== null) {
        present.push(c);
        break;
      }
    }
  }
  return present;
}

/** One SQL statement and its bindings. */
export interface Statement {
  sql: string;
  bindings: unknown[];
}

/**
 * The multi-row INSERT statements of `rows` (arrays in `columns` order): as few as the
 * database's variable limit allows. `suffix` follows each VALUES list (an ON CONFLICT clause).
 *
 * A column that is null in every row of a statement is left out of it: the database then parses
 * and compiles one value less per row (about a microsecond each on SQLite). Only for columns
 * whose default is null, as every nullable column of the schema's: the row stores the same null,
 * and an upsert's `excluded.<column>` reads it.
 */
export function insertStatements(
  knex: Knex,
  table: string,
  columns: readonly string[],
  rows: ReadonlyArray<readonly unknown[]>,
  suffix = '',
): Statement[] {
  const perStatement = Math.floor(variableLimit(knex) / columns.length);
  const postgres = isPostgres(knex);
  const statements: Statement[] = [];
  for (let start = 0; start < rows.length; start += perStatement) {
    const bindings: unknown[] = [];
    const tuples: string[] = [];
    const end = Math.min(rows.length, start + perStatement);
    const present = presentColumns(rows, start, end, columns.length);
    const head = `insert into ${quote(table)} (${present.map((c) => quote(columns[c] as string)).join(',')}) values `;
    for (let i = start; i < end; i += 1) tuples.push(tuple(rows[i] as readonly unknown[], present, bindings, postgres));
    statements.push({ sql: `${head}${tuples.join(',')}${suffix}`, bindings });
  }
  return statements;
}

/** Runs `statements` one after another inside `trx`. */
export async function runAll(trx: Knex.Transaction, statements: Statement[]): Promise<void> {
  for (const { sql, bindings } of statements) await trx.raw(sql, bindings as Knex.RawBinding[]);
}

/** `on conflict (keys) do update set c = excluded.c, …` for the given columns. */
export function upsertClause(keys: readonly string[], columns: readonly string[]): string {
  const set = columns.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(', ');
  return ` on conflict (${keys.map(quote).join(',')}) do update set ${set}`;
}

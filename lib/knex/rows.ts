import type { ChainHead, StoredEvent, StoredRequirementVersion, SubjectSnapshot, VersionTexts } from '../tracker/records';
import type { Action, Source } from '../types';
import type { Knex } from 'knex';
import { bytes, everyColumn, hex, hexOrNull, idOrNull, num, numOrNull, rowCodec, text, textOrNull, type Row } from './row-codec';
import { headOf } from './head-rows';
import { isPostgres } from './migrate';
import { stateOfRow } from './event-rows';
import { recordsOrUnreadable } from '../tracker/stored-records';

export type { Row } from './row-codec';

/** The rows of a `knex.raw()` result: an array on SQLite, `{ rows }` on PostgreSQL. */
export function rawRows(result: unknown): Row[] {
  return (Array.isArray(result) ? result : (result as { rows: Row[] }).rows) as Row[];
}

/**
 * Snapshots of many subjects read in one statement (a subject row with its `records`, the
 * subject's columns as `head_*`, its head event's joined by `joinHead`), by pseudonym; records
 * that do not decode as one that no seal covers (`recordsOrUnreadable`).
 */
export function snapshotsByPseudonym(rows: readonly Row[]): Map<string, SubjectSnapshot> {
  const out = new Map<string, SubjectSnapshot>();
  for (const row of rows) {
    const head = headOf(row, 'head_seq');
    const pseudonym = hex(row.head_pseudonym);
    out.set(pseudonym, {
      chain: hex(row.head_chain),
      pseudonym,
      seq: head.seq,
      hash: head.hash,
      headId: idOrNull(row.head_id),
      mac: hex(row.head_mac),
      records: recordsOrUnreadable(row.records),
    });
  }
  return out;
}


/**
 * The columns of an event row, in the order `eventOfValues` and the bulk writes use. The
 * previous event's hash is not stored: verification takes it from the event `prev_id` names.
 */
export const EVENT_COLUMNS = everyColumn<Omit<StoredEvent, 'prevHash'>>()([
  'id', 'chain', 'seq', 'requirement', 'version', 'action', 'state', 'source', 'actor', 'at',
  'note', 'data', 'ip', 'user_agent', 'personal_digest', 'prev_id', 'hash', 'context', 'locale', 'personal_salt',
]);

// Event ids (bigint): PostgreSQL's sequences hand out ids up to 2^63 - 1.
const ID_COLUMNS = new Set(['id', 'prev_id', 'head_id']);
const BYTE_COLUMNS = new Set(['chain', 'personal_digest', 'personal_salt', 'hash', 'pseudonym', 'head_hash', 'head_mac', 'pending_token', 'sealed_subject', 'records']);

/** Whether the column a page selects as `alias` holds bytes (read as hex). */
export const isByteColumn = (alias: string): boolean => BYTE_COLUMNS.has(alias);

// What a strict page reads for a value that is not bytes: no hex, so no digest, key or record
// set that the library wrote reads back from it (as text, and as the SQL literal of it).
export const NOT_BYTES_TEXT = '-';
const NOT_BYTES = `'${NOT_BYTES_TEXT}'`;

/**
 * `column` as hex when it holds bytes (a JSON page cannot carry them), else itself: lowercase
 * from PostgreSQL; upper case from SQLite, whose `lower()` pass over every digit cost the
 * database thread more than `readJsonPage` spends lowering them in JavaScript.
 *
 * SQLite lets a column hold a value of any type, and `hex()` gives the hex of a text's
 * characters as it does of bytes, whereas a driver reads the text as a string. `strict` (the
 * pages `verify()` reads) reads a byte column that holds anything but bytes as no hex at all, so
 * that verification reports a value that the library's writes, which read rows through the
 * driver, would refuse.
 */
export function hexColumn(knex: Knex, column: string, alias = column.replace(/^.*\./, ''), strict = false): string | Knex.Raw {
  // A JSON page would give an event id as a number, which loses digits from 2^53 on.
  if (ID_COLUMNS.has(alias)) return isPostgres(knex) ? knex.raw('??::text', [column]) : column;
  if (!BYTE_COLUMNS.has(alias)) return column;
  if (isPostgres(knex)) return knex.raw("encode(??, 'hex')", [column]);
  if (strict) return knex.raw(`case typeof(??) when 'blob' then nullif(hex(??), '') when 'null' then null else ${NOT_BYTES} end`, [column, column]);
  return knex.raw("nullif(hex(??), '')", [column]);
}

/**
 * The selection of a JSON page of `columns` (as `readRows` takes it): byte columns as hex,
 * `strict`ly for the pages of verification (see `hexColumn`).
 */
export function pageColumns(knex: Knex, columns: readonly string[] | Readonly<Record<string, string>>, strict = false): Record<string, string | Knex.Raw> {
  const entries: Array<[string, string]> = Array.isArray(columns) ? (columns as string[]).map((c) => [c, c]) : Object.entries(columns);
  // `null`: a value the page holds no column for.
  return Object.fromEntries(entries.map(([alias, column]) => [alias, column === 'null' ? knex.raw('null') : hexColumn(knex, column, alias, strict)]));
}

/**
 * An event from its values in `EVENT_COLUMNS` order (a row of a JSON page, as read by
 * `verify()`). `verify()` reads every event of the store through here: an object literal, not
 * a generic reader (`rowCodec`), which would take several times as long.
 */
export function eventOfValues(v: readonly unknown[]): StoredEvent {
  return {
    id: String(v[0]),
    chain: hex(v[1]),
    seq: num(v[2]),
    requirement: v[3] as string,
    version: num(v[4]),
    action: v[5] as Action,
    state: stateOfRow(v[5], v[6]),
    source: v[7] as Source,
    actor: textOrNull(v[8]),
    at: num(v[9]),
    note: textOrNull(v[10]),
    data: textOrNull(v[11]),
    ip: textOrNull(v[12]),
    userAgent: textOrNull(v[13]),
    personalDigest: hexOrNull(v[14]),
    prevId: idOrNull(v[15]),
    prevHash: '',
    hash: hex(v[16]),
    context: textOrNull(v[17]),
    locale: textOrNull(v[18]),
    personalSalt: hexOrNull(v[19]),
  };
}

export function toEvent(row: Row): StoredEvent {
  return eventOfValues(EVENT_COLUMNS.map((column) => row[column]));
}

const versions = rowCodec<Omit<StoredRequirementVersion, 'mac'>>({
  id: text,
  version: num,
  title: text,
  description: text,
  url: textOrNull,
  lawful_basis: text,
  text_hash: text,
  created_at: num,
  texts: (value) => (value === null || value === undefined ? null : (JSON.parse(value as string) as VersionTexts)),
  effective_from: numOrNull,
});

export const toVersion = (row: Row): StoredRequirementVersion => ({ ...versions.read(row), mac: hex(row.mac) });
export const fromVersion = (version: StoredRequirementVersion): Row => ({
  ...versions.write(version),
  texts: version.texts ? JSON.stringify(version.texts) : null,
  effective_from: version.effectiveFrom ?? null,
  mac: version.mac === '' ? null : bytes(version.mac),
});

/** The head of a subject row read with its head event (`joinHead`). */
export function toHead(row: Row): ChainHead {
  const head = headOf(row);
  return {
    chain: hex(row.chain),
    pseudonym: hexOrNull(row.pseudonym),
    seq: head.seq,
    hash: head.hash,
    id: idOrNull(row.head_id),
    erased: row.erased_at !== null && row.erased_at !== undefined,
    mac: hex(row.head_mac),
  };
}

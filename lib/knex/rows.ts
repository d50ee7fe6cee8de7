import type { ChainHead, CurrentRecord, StoredEvent, StoredRequirementVersion } from '../tracker/records';
import type { Action, Decision, Source, State } from '../types';
import { everyColumn, idOrNull, num, numOrNull, rowCodec, rowWriter, text, textOrNull, type Row } from './row-codec';

export type { Row } from './row-codec';

/** The rows of a `knex.raw()` result: an array on SQLite, `{ rows }` on PostgreSQL. */
export function rawRows(result: unknown): Row[] {
  return (Array.isArray(result) ? result : (result as { rows: Row[] }).rows) as Row[];
}

// Every lookup that misses the cache reads its records through here: an object literal, not
// a generic reader (`rowCodec`), which would take several times as long.
export function toRecord(row: Row): CurrentRecord {
  return {
    requirement: row.requirement as string,
    decision: textOrNull<Decision>(row.decision),
    version: numOrNull(row.version),
    decidedAt: numOrNull(row.decided_at),
    expiresAt: numOrNull(row.expires_at),
    gpcOptIn: Boolean(row.gpc_opt_in),
    pendingVersion: numOrNull(row.pending_version),
    pendingAt: numOrNull(row.pending_at),
    pendingExpiresAt: numOrNull(row.pending_expires_at),
    pendingToken: textOrNull(row.pending_token),
    expiryRecorded: Boolean(row.expiry_recorded),
  };
}

/** Records of many subjects read in one statement, grouped by the value of `column`. */
export function groupRecords(rows: readonly Row[], column: string, into = new Map<string, CurrentRecord[]>()): Map<string, CurrentRecord[]> {
  for (const row of rows) {
    const key = row[column] as string;
    const list = into.get(key);
    if (list) list.push(toRecord(row));
    else into.set(key, [toRecord(row)]);
  }
  return into;
}

/** The columns of an event row, in the order `eventOfValues` and the bulk writes use. */
export const EVENT_COLUMNS = everyColumn<StoredEvent>()([
  'id', 'chain', 'seq', 'requirement', 'version', 'action', 'state', 'source', 'actor', 'at',
  'note', 'data', 'ip', 'user_agent', 'personal_digest', 'prev_id', 'prev_hash', 'hash',
]);

/**
 * An event from its values in `EVENT_COLUMNS` order (a row of a JSON page, as read by
 * `verify()`). `verify()` reads every event of the store through here: an object literal, not
 * a generic reader (`rowCodec`), which would take several times as long.
 */
export function eventOfValues(v: readonly unknown[]): StoredEvent {
  return {
    id: String(v[0]),
    chain: v[1] as string,
    seq: num(v[2]),
    requirement: v[3] as string,
    version: num(v[4]),
    action: v[5] as Action,
    state: v[6] as State,
    source: v[7] as Source,
    actor: textOrNull(v[8]),
    at: num(v[9]),
    note: textOrNull(v[10]),
    data: textOrNull(v[11]),
    ip: textOrNull(v[12]),
    userAgent: textOrNull(v[13]),
    personalDigest: v[14] as string,
    prevId: idOrNull(v[15]),
    prevHash: (v[16] as string | null) ?? '',
    hash: v[17] as string,
  };
}

export function toEvent(row: Row): StoredEvent {
  return eventOfValues(EVENT_COLUMNS.map((column) => row[column]));
}

export const fromEvent = rowWriter<StoredEvent>(EVENT_COLUMNS);

const versions = rowCodec<StoredRequirementVersion>({
  id: text,
  version: num,
  title: text,
  description: text,
  url: textOrNull,
  lawful_basis: text,
  text_hash: text,
  created_at: num,
});

export const toVersion = versions.read;
export const fromVersion = versions.write;

export function toHead(row: Row): ChainHead {
  return {
    chain: row.chain as string,
    seq: num(row.seq),
    hash: row.head_hash as string,
    id: idOrNull(row.head_id),
    erased: row.erased_at !== null && row.erased_at !== undefined,
    mac: row.head_mac as string,
  };
}

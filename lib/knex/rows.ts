import type { ChainHead, CurrentRecord, LedgerPageEntry, StoredEvent, StoredRequirementVersion } from '../tracker/records';
import type { Action, Decision, Source, State } from '../types';

// PostgreSQL returns BIGINT as a string; SQLite as a number. Both fit a double (epoch ms).
const num = (value: unknown): number => Number(value);
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

export type Row = Record<string, unknown>;

/** The rows of a `knex.raw()` result: an array on SQLite, `{ rows }` on PostgreSQL. */
export function rawRows(result: unknown): Row[] {
  return (Array.isArray(result) ? result : (result as { rows: Row[] }).rows) as Row[];
}

export function toRecord(row: Row): CurrentRecord {
  return {
    requirement: row.requirement as string,
    decision: (row.decision as Decision | null) ?? null,
    version: numOrNull(row.version),
    decidedAt: numOrNull(row.decided_at),
    expiresAt: numOrNull(row.expires_at),
    gpcOptIn: Boolean(row.gpc_opt_in),
    pendingVersion: numOrNull(row.pending_version),
    pendingAt: numOrNull(row.pending_at),
    pendingExpiresAt: numOrNull(row.pending_expires_at),
    pendingToken: (row.pending_token as string | null) ?? null,
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

export function fromRecord(chain: string, record: CurrentRecord): Row {
  return {
    chain,
    requirement: record.requirement,
    decision: record.decision,
    version: record.version,
    decided_at: record.decidedAt,
    expires_at: record.expiresAt,
    gpc_opt_in: record.gpcOptIn,
    pending_version: record.pendingVersion,
    pending_at: record.pendingAt,
    pending_expires_at: record.pendingExpiresAt,
    pending_token: record.pendingToken,
    expiry_recorded: record.expiryRecorded,
  };
}

/** The columns of an event row, in the order `eventOfValues` and the bulk writes use. */
export const EVENT_COLUMNS = [
  'id', 'chain', 'seq', 'requirement', 'version', 'action', 'state', 'source', 'actor', 'at',
  'note', 'data', 'ip', 'user_agent', 'personal_digest', 'prev_id', 'prev_hash', 'hash',
] as const;

const textOrNull = (value: unknown): string | null => (value as string | null | undefined) ?? null;

/** An event from its values in `EVENT_COLUMNS` order (a row of a JSON page, as read by `verify()`). */
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
    prevId: v[15] === null || v[15] === undefined ? null : (v[15] as string | number).toString(),
    prevHash: (v[16] as string | null) ?? '',
    hash: v[17] as string,
  };
}

export function toEvent(row: Row): StoredEvent {
  return eventOfValues(EVENT_COLUMNS.map((column) => row[column]));
}

export function fromEvent(event: StoredEvent): Row {
  return {
    id: event.id,
    chain: event.chain,
    seq: event.seq,
    requirement: event.requirement,
    version: event.version,
    action: event.action,
    state: event.state,
    source: event.source,
    actor: event.actor,
    at: event.at,
    note: event.note,
    data: event.data,
    ip: event.ip,
    user_agent: event.userAgent,
    personal_digest: event.personalDigest,
    prev_id: event.prevId,
    prev_hash: event.prevHash,
    hash: event.hash,
  };
}

export function toVersion(row: Row): StoredRequirementVersion {
  return {
    id: row.id as string,
    version: num(row.version),
    title: row.title as string,
    description: row.description as string,
    url: (row.url as string | null) ?? null,
    lawfulBasis: row.lawful_basis as string,
    textHash: row.text_hash as string,
    createdAt: num(row.created_at),
  };
}

export function fromVersion(version: StoredRequirementVersion): Row {
  return {
    id: version.id,
    version: version.version,
    title: version.title,
    description: version.description,
    url: version.url,
    lawful_basis: version.lawfulBasis,
    text_hash: version.textHash,
    created_at: version.createdAt,
  };
}

export function toHead(row: Row): ChainHead {
  return {
    chain: row.chain as string,
    seq: num(row.seq),
    hash: row.head_hash as string,
    id: row.head_id === null || row.head_id === undefined ? null : (row.head_id as string | number).toString(),
    erased: row.erased_at !== null && row.erased_at !== undefined,
    mac: row.head_mac as string,
  };
}

export function toLedgerEntry(row: Row): LedgerPageEntry {
  return {
    n: num(row.n),
    chain: row.chain as string,
    firstId: String(row.first_id),
    prevFirstId: row.prev_first_id === null || row.prev_first_id === undefined ? null : (row.prev_first_id as string | number).toString(),
    mac: row.mac as string,
    headSeq: numOrNull(row.head_seq),
  };
}

import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { GENESIS } from '../audit/chain';
import type { CurrentRecord, SubjectSnapshot, WritePlan } from '../tracker/records';
import { insertStatements, upsertClause, type Statement } from './bulk-sql';
import type { TableContext } from './table-context';
import { bytes, bytesOrNull, hex, type Row } from './row-codec';

/*
 * The rows a batch writes (subjects, events, records), shared by the batch written in its
 * transaction (`write-batch`) and the batch prepared ahead of it (`prepare-batch`).
 */

/** One subject of a batch: its locked row, its snapshot and its plan. */
export interface Planned {
  pseudonym: string;
  subject: Row;
  snapshot: SubjectSnapshot;
  plan: WritePlan;
}

export const SUBJECT_COLUMNS = ['chain', 'pseudonym', 'seq', 'head_hash', 'head_mac'] as const;

/** Subject rows to insert, and their columns. */
export interface SubjectRows {
  columns: readonly string[];
  rows: unknown[][];
}
const STATE_KEYS = ['chain', 'requirement'] as const;
const STATE_VALUES = [
  'decision', 'version', 'decided_at', 'expires_at', 'gpc_opt_in', 'pending_version', 'pending_at',
  'pending_expires_at', 'pending_token', 'expiry_recorded',
] as const;
// Random bytes of a chain key, after its 6 bytes of time. Two of a thousand chains created in
// the same millisecond share a key about once in 10,000 such milliseconds; the insert then skips
// the second row, which is created again with another key.
const KEY_RANDOM = 4;
const GENESIS_BYTES = bytes(GENESIS);
const NO_MAC = Buffer.alloc(0);

/**
 * A new chain's key, 10 bytes: the creation time (milliseconds, 6 bytes) then 32 random bits.
 * New chains therefore enter the chain-keyed indexes (events by chain and sequence, records by
 * chain) near their right edge, in pages that are already in the cache, instead of at random
 * places across indexes far larger than the cache: a long history keeps its write speed.
 */
function chainKey(now: number, random: Buffer, offset: number): Buffer {
  const key = Buffer.allocUnsafe(6 + KEY_RANDOM);
  key.writeUIntBE(now, 0, 6);
  random.copy(key, 6, offset, offset + KEY_RANDOM);
  return key;
}

/** Rows (`SUBJECT_COLUMNS`) of new subjects for `pseudonyms`: fresh chain keys, empty chains. */
export function newSubjectRows(pseudonyms: readonly string[]): unknown[][] {
  const now = Date.now();
  const random = randomBytes(KEY_RANDOM * pseudonyms.length);
  return pseudonyms.map((p, i) => [chainKey(now, random, KEY_RANDOM * i), bytes(p), 0, GENESIS_BYTES, NO_MAC]);
}

export function snapshotOf(subject: Row, records: CurrentRecord[]): SubjectSnapshot {
  return {
    chain: hex(subject.chain),
    pseudonym: hex(subject.pseudonym),
    seq: Number(subject.seq),
    hash: hex(subject.head_hash),
    headId: subject.head_id === null || subject.head_id === undefined ? null : (subject.head_id as string | number).toString(),
    mac: hex(subject.head_mac),
    records,
  };
}

// Events per INSERT while sealing: small enough that the database inserts one slice while the
// next is hashed, large enough that per-statement costs stay small.
export const EVENT_SLICE = 1000;

/** Appends the record rows of a plan for the chain `chainKey` (hex) to `rows`. */
export function addStateRows(chainKey: string, plan: WritePlan, rows: unknown[][]): void {
  if (plan.records.length === 0) return;
  const chain = bytes(chainKey);
  for (const r of plan.records) {
    rows.push([
      chain, r.requirement, r.decision, r.version, r.decidedAt, r.expiresAt, r.gpcOptIn,
      r.pendingVersion, r.pendingAt, r.pendingExpiresAt, bytesOrNull(r.pendingToken), r.expiryRecorded,
    ]);
  }
}

/** The upserts of record rows. */
export function stateStatements(ctx: TableContext, db: Knex, rows: unknown[][]): Statement[] {
  return insertStatements(db, ctx.table('states'), [...STATE_KEYS, ...STATE_VALUES], rows, upsertClause(STATE_KEYS, STATE_VALUES));
}

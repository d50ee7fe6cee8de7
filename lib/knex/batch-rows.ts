import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { GENESIS } from '../audit/chain';
import type { CurrentRecord, NewEvent, SubjectSnapshot, WritePlan } from '../tracker/records';
import { insertStatements, upsertClause, type Statement } from './bulk-sql';
import type { TableContext } from './chain-store';
import type { Row } from './rows';

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

export const SUBJECT_COLUMNS = ['chain', 'pseudonym', 'seq', 'head_hash', 'head_mac', 'created_at'] as const;

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
/**
 * A new chain's key: the creation time (milliseconds, 12 hex digits) then 80 random bits. New
 * chains therefore enter the chain-keyed indexes (events by chain and sequence, records by
 * chain) near their right edge, in pages that are already in the cache, instead of at random
 * places across indexes far larger than the cache: a long history keeps its write speed.
 */
function chainKey(now: number, random: string): string {
  return now.toString(16).padStart(12, '0') + random;
}

/** Rows (`SUBJECT_COLUMNS`) of new subjects for `pseudonyms`: fresh chain keys, empty chains. */
export function newSubjectRows(pseudonyms: readonly string[]): unknown[][] {
  const now = Date.now();
  const random = randomBytes(10 * pseudonyms.length).toString('hex');
  return pseudonyms.map((p, i) => [chainKey(now, random.slice(20 * i, 20 * i + 20)), p, 0, GENESIS, '', now]);
}

export function snapshotOf(subject: Row, records: CurrentRecord[]): SubjectSnapshot {
  return {
    chain: subject.chain as string,
    seq: Number(subject.seq),
    hash: subject.head_hash as string,
    headId: subject.head_id === null || subject.head_id === undefined ? null : (subject.head_id as string | number).toString(),
    records,
  };
}

// Events per INSERT while sealing: small enough that the database inserts one slice while the
// next is hashed, large enough that per-statement costs stay small.
export const EVENT_SLICE = 1000;

// Ids as numbers where exact, which the statements write as literals instead of binding them.
export function idValue(id: string | null): string | number | null {
  const n = Number(id);
  return id !== null && Number.isSafeInteger(n) ? n : id;
}

export function eventRow(e: NewEvent): unknown[] {
  return [
    idValue(e.id), e.chain, e.seq, e.requirement, e.version, e.action, e.state, e.source, e.actor, e.at,
    e.note, e.data, e.ip, e.userAgent, e.personalDigest, idValue(e.prevId), e.prevHash, e.hash, e.context,
  ];
}

/** Appends the record rows of `planned` to `rows`. */
export function addStateRows({ snapshot, plan }: Planned, rows: unknown[][]): void {
  for (const r of plan.records) {
    rows.push([
      snapshot.chain, r.requirement, r.decision, r.version, r.decidedAt, r.expiresAt, r.gpcOptIn,
      r.pendingVersion, r.pendingAt, r.pendingExpiresAt, r.pendingToken, r.expiryRecorded,
    ]);
  }
}

/** The upserts of record rows. */
export function stateStatements(ctx: TableContext, db: Knex, rows: unknown[][]): Statement[] {
  return insertStatements(db, ctx.table('states'), [...STATE_KEYS, ...STATE_VALUES], rows, upsertClause(STATE_KEYS, STATE_VALUES));
}

import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { CurrentRecord, SubjectSnapshot, WritePlan } from '../tracker/records';
import { encodeRecords, nextLapse } from '../tracker/record-blob';
import { recordsOrUnreadable } from '../tracker/stored-records';
import { insertStatements, type Statement } from './bulk-sql';
import { quote } from './quote';
import { headOf } from './head-rows';
import type { TableContext } from './table-context';
import { bytes, hex, type Row } from './row-codec';

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
  /** Its records once the plan is written. */
  records: CurrentRecord[];
}

export const SUBJECT_COLUMNS = ['chain', 'pseudonym', 'head_mac'] as const;

/** The columns of a subject row that hold its records (`foldedColumns`). */
export const RECORD_COLUMNS = ['records', 'lapse_at'] as const;
// Bytes of a chain key after its 4 bytes of time: a counter, which each process starts at a
// random point and counts up from there for every chain it creates, so that its keys never
// collide (with random keys, two of 10,000 created in the same second would share one about once
// in 90 batches, and the batch would be written again) and each batch's keys follow the previous
// batch's, also within one second. Two writers' batches of 10,000 created in the same second
// overlap about once in 200,000 such coincidences; the insert then skips the second row, which
// is created again with a key from another random point (`scatterChainKeys`). (On PostgreSQL,
// when the two writers are also both creating one same new subject, they wait for each other
// instead, and the server fails one of them as a deadlock: that transaction runs again, its keys
// from another random point; see `writeTransaction`.)
const KEY_COUNTER = 4;
const KEY_TIME = 4;
const NO_MAC = Buffer.alloc(0);

/** Bytes of a new chain's key. */
export const CHAIN_KEY_BYTES = KEY_TIME + KEY_COUNTER;

/**
 * The keys of `count` new chains, one after another in one buffer, 8 bytes each: the creation
 * time (whole seconds, 4 bytes, until 2106) then 32 bits counted from a random start. New chains
 * therefore enter the chain-keyed indexes (events by chain and sequence, records by chain) near
 * their right edge, in pages that are already in the cache, instead of at random places across
 * indexes far larger than the cache: a long history keeps its write speed. A chain key is in
 * every row and index entry of its subject, so each byte of it counts several times. Chains of
 * earlier releases keep their 10-byte keys (milliseconds, 6 bytes), which sort before these.
 */
export function newChainKeys(count: number): Buffer {
  const keys = Buffer.allocUnsafe(CHAIN_KEY_BYTES * count);
  const seconds = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i += 1) {
    keys.writeUInt32BE(seconds, CHAIN_KEY_BYTES * i);
    keys.writeUInt32BE((nextCounter + i) % 2 ** 32, CHAIN_KEY_BYTES * i + KEY_TIME);
  }
  nextCounter = (nextCounter + count) % 2 ** 32;
  return keys;
}

const randomCounter = (): number => randomBytes(KEY_COUNTER).readUInt32BE(0);

// Where this process's next chain key counts from.
let nextCounter = randomCounter();

/**
 * Moves where the next chain keys count from to a new random point: after a key was found taken,
 * another writer counts in the same range.
 */
export function scatterChainKeys(): void {
  nextCounter = randomCounter();
}

/** The `i`th key of `newChainKeys`. */
export function chainKeyAt(keys: Buffer, i: number): Buffer {
  return keys.subarray(CHAIN_KEY_BYTES * i, CHAIN_KEY_BYTES * (i + 1));
}

/** The row (`SUBJECT_COLUMNS`) of a new subject: its chain key, its chain empty. */
export function newSubjectRow(chain: Buffer, pseudonym: string): unknown[] {
  return [chain, bytes(pseudonym), NO_MAC];
}

/**
 * Rows (`SUBJECT_COLUMNS`) of new subjects for `pseudonyms`: fresh chain keys, empty chains. The
 * keys are handed out in ascending order, the order in which the batch writes its subjects, and
 * then their records and events: each index keyed by chain is then filled at its right edge,
 * page after full page, instead of split at random places into half-empty pages.
 */
export function newSubjectRows(pseudonyms: readonly string[]): unknown[][] {
  const keys = newChainKeys(pseudonyms.length);
  return pseudonyms.map((p, i) => newSubjectRow(chainKeyAt(keys, i), p));
}

/**
 * The inserts of new subject rows (arrays in `columns` order). Any conflict skips the row: a
 * pseudonym stored already, or (rarely) a chain key taken, whose row the caller then creates
 * again with another key. They return the pseudonyms of the rows they created (a whole row each
 * cost the driver an object per subject), and any `returned` columns after it.
 */
export function subjectInserts(ctx: TableContext, db: Knex, columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>, returned = ''): Statement[] {
  return insertStatements(db, ctx.table('subjects'), columns, rows, skipStoredSubjects(returned));
}

/** The clause that makes an insert of subject rows skip conflicts and return what it created. */
export function skipStoredSubjects(returned = ''): string {
  return ` on conflict do nothing returning ${quote('pseudonym')}${returned}`;
}

/**
 * The snapshot of a subject row (read with its head event, `joinHead`, or just created) and its
 * records (those that do not decode as one that no seal covers: `recordsOrUnreadable`).
 */
export function snapshotOf(subject: Row): SubjectSnapshot {
  const head = headOf(subject);
  return {
    chain: hex(subject.chain),
    pseudonym: hex(subject.pseudonym),
    seq: head.seq,
    hash: head.hash,
    headId: subject.head_id === null || subject.head_id === undefined ? null : (subject.head_id as string | number).toString(),
    mac: hex(subject.head_mac),
    records: recordsOrUnreadable(subject.records),
  };
}

// Events per INSERT while sealing: small enough that the database inserts one slice while the
// next is hashed, large enough that per-statement costs stay small.
export const EVENT_SLICE = 1000;

/** A subject row's `records` and `lapse_at` for `records`. */
export function foldedColumns(records: readonly CurrentRecord[]): [Buffer | null, number | null] {
  return [encodeRecords(records), nextLapse(records)];
}

import type { Knex } from 'knex';
import type { AudienceEntry, AudienceQuery } from '../tracker/audience-capability';
import type { CurrentRecord, SubjectSnapshot } from '../tracker/records';
import type { TableContext } from './chain-store';
import { chainRecords } from './chain-scan';
import { readJsonPage } from './json-page';
import { bytes, hex, hexOrNull, idOrNull, num } from './row-codec';
import { pageColumns, type Row } from './rows';

// A subject's head, link and sealed id: with its records, the snapshot `current()` reads.
const SUBJECT_COLUMNS = ['chain', 'pseudonym', 'seq', 'head_hash', 'head_id', 'head_mac', 'sealed_subject'];

const byChain = (a: unknown[], b: unknown[]): boolean => (a[0] as string) < (b[0] as string);

/**
 * The subject rows of `query` as arrays of `SUBJECT_COLUMNS` values (byte columns as hex), read
 * as one JSON page when the database can: an audience reads every subject row, and an object
 * per row cost more than the whole query.
 */
async function subjectValues(ctx: TableContext, query: Knex.QueryBuilder): Promise<unknown[][]> {
  const values = await readJsonPage(ctx.knex, query, pageColumns(ctx.knex, SUBJECT_COLUMNS), byChain);
  if (values !== null) return values;
  const rows: Row[] = await query.select(SUBJECT_COLUMNS);
  return rows.map((row) => SUBJECT_COLUMNS.map((column, i) => (i === 2 || i === 4 ? row[column] : hexOrNull(row[column]))));
}

/** A subject's values (`SUBJECT_COLUMNS`) with its chain's records: the snapshot `current()` reads. */
function snapshotOf(v: readonly unknown[], records: Map<string, CurrentRecord[]>): SubjectSnapshot {
  const chain = v[0] as string;
  return {
    chain,
    pseudonym: (v[1] as string | null) ?? '',
    seq: num(v[2]),
    hash: v[3] as string,
    headId: idOrNull(v[4]),
    mac: v[5] as string,
    records: records.get(chain) ?? [],
  };
}

/**
 * A keyset page of linked subjects, each with its whole snapshot, in two indexed reads: a range
 * of the subjects' primary key, then the records of the chains from the page's first to its
 * last by a range of the states' primary key (an erased chain in between has none). Chain keys
 * are bytes: their order is the order of their hex.
 */
export async function audiencePage(ctx: TableContext, query: AudienceQuery): Promise<AudienceEntry[]> {
  const subjects = ctx.table('subjects');
  // Qualified: a bare `chain` in ORDER BY names the selected hex of it, which no index holds.
  const chain = `${subjects}.chain`;
  const q = ctx.knex(subjects).whereNotNull(`${subjects}.pseudonym`).orderBy(chain).limit(query.limit);
  if (query.after !== undefined) q.where(chain, '>', bytes(query.after));
  const values = await subjectValues(ctx, q);
  const records = await chainRecords(ctx, values.map((v) => v[0] as string), true);
  return values.map((v) => ({ snapshot: snapshotOf(v, records), sealedSubject: (v[6] as string | null) ?? null }));
}

/**
 * The snapshots of the subjects linked to `pseudonyms`, in the order asked (null for none), in
 * two indexed reads: the subjects by the pseudonyms' unique index, then their chains' records.
 */
export async function snapshotsOf(ctx: TableContext, pseudonyms: readonly string[]): Promise<Array<SubjectSnapshot | null>> {
  if (pseudonyms.length === 0) return [];
  const subjects = ctx.table('subjects');
  const unique = [...new Set(pseudonyms)];
  const q = ctx.knex(subjects).whereIn(`${subjects}.pseudonym`, unique.map(bytes)).orderBy(`${subjects}.chain`);
  const values = await subjectValues(ctx, q);
  const records = await chainRecords(ctx, values.map((v) => v[0] as string), false);
  const byPseudonym = new Map<string, SubjectSnapshot>();
  for (const v of values) {
    const snapshot = snapshotOf(v, records);
    byPseudonym.set(snapshot.pseudonym, snapshot);
  }
  return pseudonyms.map((pseudonym) => byPseudonym.get(pseudonym) ?? null);
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

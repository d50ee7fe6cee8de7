import type { AudienceEntry, AudienceQuery } from '../tracker/audience-capability';
import type { CurrentRecord, SubjectSnapshot } from '../tracker/records';
import type { TableContext } from './chain-store';
import { chainRecords } from './chain-scan';
import { readRows } from './json-page';
import { bytes, hex, hexOrNull, idOrNull, num } from './row-codec';
import { pageColumns, type Row } from './rows';

// A subject's head, link and sealed id: with its records, the snapshot `current()` reads.
const SUBJECT_COLUMNS = ['chain', 'pseudonym', 'seq', 'head_hash', 'head_id', 'head_mac', 'sealed_subject'];

const byChain = (a: unknown[], b: unknown[]): boolean => (a[0] as string) < (b[0] as string);

/** A subject row of `SUBJECT_COLUMNS` with its chain's records: the snapshot `current()` reads. */
function snapshotOf(row: Row, records: Map<string, CurrentRecord[]>): SubjectSnapshot {
  const chain = hex(row.chain);
  return {
    chain,
    pseudonym: hex(row.pseudonym),
    seq: num(row.seq),
    hash: hex(row.head_hash),
    headId: idOrNull(row.head_id),
    mac: hex(row.head_mac),
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
  const rows = await readRows(ctx.knex, q, pageColumns(ctx.knex, SUBJECT_COLUMNS), byChain);
  const records = await chainRecords(ctx, rows.map((row) => hex(row.chain)), true);
  return rows.map((row) => ({ snapshot: snapshotOf(row, records), sealedSubject: hexOrNull(row.sealed_subject) }));
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
  const rows = await readRows(ctx.knex, q, pageColumns(ctx.knex, SUBJECT_COLUMNS.slice(0, -1)), byChain);
  const records = await chainRecords(ctx, rows.map((row) => hex(row.chain)), false);
  const byPseudonym = new Map<string, SubjectSnapshot>();
  for (const row of rows) {
    const snapshot = snapshotOf(row, records);
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

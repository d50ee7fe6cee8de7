import type { Knex } from 'knex';
import type { AudienceEntry, AudienceQuery } from '../tracker/audience-capability';
import type { CurrentRecord, SubjectSnapshot } from '../tracker/records';
import type { TableContext } from './chain-store';
import { chainRecords } from './chain-scan';
import { readJsonPage } from './json-page';
import { bytes, hex, hexOrNull, idOrNull, num } from './row-codec';
import { pageColumns, recordOfValues, type Row } from './rows';

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

// A subject's records, each with its head and link: `recordOfValues` reads the first twelve.
const JOINED_COLUMNS: Record<string, string> = {
  chain: 's.chain', requirement: 'st.requirement', decision: 'st.decision', version: 'st.version', decided_at: 'st.decided_at',
  expires_at: 'st.expires_at', gpc_opt_in: 'st.gpc_opt_in', pending_version: 'st.pending_version', pending_at: 'st.pending_at',
  pending_expires_at: 'st.pending_expires_at', pending_token: 'st.pending_token', expiry_recorded: 'st.expiry_recorded',
  pseudonym: 's.pseudonym', seq: 's.seq', head_hash: 's.head_hash', head_id: 's.head_id', head_mac: 's.head_mac',
};
const JOINED_NAMES = Object.keys(JOINED_COLUMNS);
const HEX_AT = new Set(['chain', 'pending_token', 'pseudonym', 'head_hash', 'head_mac'].map((name) => JOINED_NAMES.indexOf(name)));
const byChainThenRequirement = (a: unknown[], b: unknown[]): boolean =>
  (a[0] as string) < (b[0] as string) || (a[0] === b[0] && (a[1] as string) < (b[1] as string));

/**
 * The snapshots of the subjects linked to `pseudonyms`, in the order asked (null for none), in
 * one statement: the subjects by the pseudonyms' unique index, each joined to its records (a row
 * per record; one with no record for a subject that has none).
 */
export async function snapshotsOf(ctx: TableContext, pseudonyms: readonly string[]): Promise<Array<SubjectSnapshot | null>> {
  if (pseudonyms.length === 0) return [];
  const q = ctx.knex(`${ctx.table('subjects')} as s`)
    .leftJoin(`${ctx.table('states')} as st`, 'st.chain', 's.chain')
    .whereIn('s.pseudonym', [...new Set(pseudonyms)].map(bytes))
    .orderBy([{ column: 's.chain' }, { column: 'st.requirement' }]);
  let values = await readJsonPage(ctx.knex, q, pageColumns(ctx.knex, JOINED_COLUMNS), byChainThenRequirement);
  if (values === null) {
    const rows: Row[] = await q.select(JOINED_COLUMNS);
    values = rows.map((row) => JOINED_NAMES.map((name, i) => (HEX_AT.has(i) ? hexOrNull(row[name]) : row[name])));
  }
  const byPseudonym = new Map<string, SubjectSnapshot>();
  let snapshot: SubjectSnapshot | undefined;
  for (const v of values) {
    if (snapshot === undefined || snapshot.chain !== v[0]) {
      snapshot = { chain: v[0] as string, pseudonym: v[12] as string, seq: num(v[13]), hash: v[14] as string, headId: idOrNull(v[15]), mac: v[16] as string, records: [] };
      byPseudonym.set(snapshot.pseudonym, snapshot);
    }
    if (v[1] !== null && v[1] !== undefined) snapshot.records.push(recordOfValues(v));
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

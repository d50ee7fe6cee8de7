import type { Knex } from 'knex';
import type { AudienceEntry, AudienceQuery } from '../tracker/audience-capability';
import type { SubjectSnapshot } from '../tracker/records';
import { bytesList } from './bulk-sql';
import type { TableContext } from './chain-store';
import { headColumns, headOf, joinHead } from './head-rows';
import { byChainThenRequirement, orderByCodes, readJsonPage } from './json-page';
import { isPostgres } from './migrate';
import { bytes, hex, hexOrNull, idOrNull } from './row-codec';
import { quote } from './quote';
import { pageColumns, recordOfValues, type Row } from './rows';

// A subject's records, each with its head, link and sealed id: `recordOfValues` reads the first twelve.
const JOINED_COLUMNS: Record<string, string> = {
  chain: 's.chain', requirement: 'st.requirement', decision: 'st.decision', version: 'st.version', decided_at: 'st.decided_at',
  expires_at: 'st.expires_at', gpc_opt_in: 'st.gpc_opt_in', pending_version: 'st.pending_version', pending_at: 'st.pending_at',
  pending_expires_at: 'st.pending_expires_at', pending_token: 'st.pending_token', expiry_recorded: 'st.expiry_recorded',
  pseudonym: 's.pseudonym', seq: 's.seq', head_hash: 's.head_hash', head_id: 's.head_id', head_mac: 's.head_mac',
  sealed_subject: 's.sealed_subject',
};
const JOINED_NAMES = Object.keys(JOINED_COLUMNS);
// The same without the sealed id: a lookup by pseudonym does not decrypt it.
const SNAPSHOT_COLUMNS: Record<string, string> = Object.fromEntries(Object.entries(JOINED_COLUMNS).filter(([name]) => name !== 'sealed_subject'));
// The subject columns, the head's position and hash read from its newest event (which `head_id` names).
const subjectColumns = (subjects: string, sealed: boolean): Record<string, string> => ({
  ...Object.fromEntries(['chain', 'pseudonym'].map((c) => [c, `${subjects}.${c}`])),
  ...headColumns(),
  ...Object.fromEntries(['head_id', 'head_mac', ...(sealed ? ['sealed_subject'] : [])].map((c) => [c, `${subjects}.${c}`])),
});
const HEX_AT = new Set(['chain', 'pending_token', 'pseudonym', 'head_hash', 'head_mac', 'sealed_subject'].map((name) => JOINED_NAMES.indexOf(name)));

/**
 * The subjects `subjects` selects (a query of the subjects table: a keyset page, or a lookup by
 * pseudonym), each with its whole snapshot and, for a keyset page, its sealed id, in chain
 * order, in one statement: each subject joined to its records (a row per record, one with no
 * record for a subject that has none). One statement, so that heads and records come from the
 * same moment: a write between two reads would fail the page's seals. Read as one JSON page
 * when the database can: an object per row cost more than the query.
 */
async function subjectEntries(ctx: TableContext, subjects: Knex.QueryBuilder, keyset: boolean): Promise<AudienceEntry[]> {
  // A keyset page lists the subjects with their sealed ids; a lookup by pseudonym needs none.
  const columns = keyset ? JOINED_COLUMNS : SNAPSHOT_COLUMNS;
  const states = ctx.table('states');
  const q = ctx.knex.from(subjects.as('s')).orderBy('s.chain');
  const sqlite = !isPostgres(ctx.knex);
  // PostgreSQL would rather hash every record of the store than look a page's up by key; the
  // `offset 0` keeps it from flattening the lateral lookup back into that join.
  if (!sqlite) q.joinRaw('left join lateral (select * from ?? where ??.chain = s.chain offset 0) as st on true', [states, states]);
  else q.leftJoin(`${states} as st`, 'st.chain', 's.chain');
  // A keyset page of SQLite comes in chain order, and each subject's records are read by their
  // key (chain, requirement), so in requirement order: sorting them again cost a sort per page.
  // Subjects looked up by pseudonym are sorted by chain all the same, and that sort would keep a
  // subject's records in order only by a tie rule SQLite does not promise: they are sorted by
  // both. The page's order is checked either way.
  const ordered = orderByCodes(ctx.knex, q.clone(), 'st.requirement');
  let values = await readJsonPage(ctx.knex, sqlite && keyset ? q : ordered, pageColumns(ctx.knex, columns), byChainThenRequirement);
  if (values === null) {
    const rows: Row[] = await ordered.select(columns);
    values = rows.map((row) => JOINED_NAMES.map((name, i) => (HEX_AT.has(i) ? hexOrNull(row[name]) : row[name])));
  }
  const entries: AudienceEntry[] = [];
  let snapshot: SubjectSnapshot | undefined;
  for (const v of values) {
    if (snapshot === undefined || snapshot.chain !== v[0]) {
      const head = headOf({ head_id: v[15], seq: v[13], head_hash: v[14] });
      snapshot = { chain: v[0] as string, pseudonym: v[12] as string, ...head, headId: idOrNull(v[15]), mac: v[16] as string, records: [] };
      entries.push({ snapshot, sealedSubject: (v[17] as string | null) ?? null });
    }
    if (v[1] !== null && v[1] !== undefined) snapshot.records.push(recordOfValues(v));
  }
  return entries;
}

/** The subjects table with each row's head event joined, selecting what a snapshot needs (and, for a keyset page, the sealed id). */
function subjectsWithHeads(ctx: TableContext, keyset: boolean): Knex.QueryBuilder {
  const subjects = ctx.table('subjects');
  return joinHead(ctx.knex(subjects), ctx.table('events'), subjects).select(subjectColumns(subjects, keyset));
}

/** A keyset page of linked subjects, each with its whole snapshot: a range of the subjects' primary key. */
export function audiencePage(ctx: TableContext, query: AudienceQuery): Promise<AudienceEntry[]> {
  const subjects = ctx.table('subjects');
  // Qualified: the joined head event has a chain column too.
  const chain = `${subjects}.chain`;
  const q = subjectsWithHeads(ctx, true).whereNotNull(`${subjects}.pseudonym`).orderBy(chain).limit(query.limit);
  if (query.after !== undefined) q.where(chain, '>', bytes(query.after));
  return subjectEntries(ctx, q, true);
}

/** The snapshots of the subjects linked to `pseudonyms`, in the order asked (null for none), by the pseudonyms' unique index. */
export async function readSnapshots(ctx: TableContext, pseudonyms: readonly string[]): Promise<Array<SubjectSnapshot | null>> {
  if (pseudonyms.length === 0) return [];
  const list = bytesList(ctx.knex, [...new Set(pseudonyms)]);
  const q = subjectsWithHeads(ctx, false).whereRaw(`${quote(ctx.table('subjects'))}.${quote('pseudonym')} in ${list.sql}`, list.bindings);
  const byPseudonym = new Map<string, SubjectSnapshot>();
  for (const { snapshot } of await subjectEntries(ctx, q, false)) byPseudonym.set(snapshot.pseudonym, snapshot);
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

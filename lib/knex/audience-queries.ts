import type { AudienceEntry, AudienceQuery } from '../tracker/audience-capability';
import type { CurrentRecord } from '../tracker/records';
import type { TableContext } from './chain-store';
import { readRows } from './json-page';
import { variableLimit } from './bulk-sql';
import { toRecord, type Row } from './rows';

// The subject's columns, then its record's (null without one): a row reads like a states row.
const AUDIENCE_COLUMNS = {
  subject_chain: 's.chain',
  sealed_subject: 's.sealed_subject',
  requirement: 'st.requirement',
  decision: 'st.decision',
  version: 'st.version',
  decided_at: 'st.decided_at',
  expires_at: 'st.expires_at',
  gpc_opt_in: 'st.gpc_opt_in',
  pending_version: 'st.pending_version',
  pending_at: 'st.pending_at',
  pending_expires_at: 'st.pending_expires_at',
  pending_token: 'st.pending_token',
  expiry_recorded: 'st.expiry_recorded',
};

const byChain = (a: unknown[], b: unknown[]): boolean => (a[0] as string) < (b[0] as string);

/**
 * A keyset page of linked subjects with their record of one requirement: a range read on the
 * subjects' primary key, each row joined to its record through the records' primary key
 * (chain, requirement). The page comes back as one JSON text where the database can.
 */
export async function audiencePage(ctx: TableContext, query: AudienceQuery): Promise<AudienceEntry[]> {
  const { after } = query;
  const q = ctx.knex(`${ctx.table('subjects')} as s`)
    .leftJoin(`${ctx.table('states')} as st`, (join) => {
      join.on('st.chain', '=', 's.chain').andOn('st.requirement', '=', ctx.knex.raw('?', [query.requirement]));
      // Said of the records too: PostgreSQL's merge join would otherwise read them from the
      // first chain on every page (it carries equalities across the join, not ranges).
      if (after !== undefined) join.andOn('st.chain', '>', ctx.knex.raw('?', [after]));
    })
    .whereNotNull('s.pseudonym')
    .orderBy('s.chain')
    .limit(query.limit);
  if (after !== undefined) q.where('s.chain', '>', after);
  const rows = await readRows(ctx.knex, q, AUDIENCE_COLUMNS, byChain);
  return rows.map((row) => ({
    chain: row.subject_chain as string,
    sealedSubject: (row.sealed_subject as string | null | undefined) ?? null,
    record: row.requirement === null || row.requirement === undefined ? null : toRecord(row),
  }));
}

/** The record of one requirement for each pseudonym, in order, read in as few statements as the database's variable limit allows. */
export async function recordsOf(ctx: TableContext, pseudonyms: readonly string[], requirement: string): Promise<Array<CurrentRecord | null>> {
  const unique = [...new Set(pseudonyms)];
  const found = new Map<string, CurrentRecord>();
  const size = variableLimit(ctx.knex) - 2;
  for (let i = 0; i < unique.length; i += size) {
    const rows: Row[] = await ctx.knex(`${ctx.table('subjects')} as s`)
      .join(`${ctx.table('states')} as st`, 'st.chain', 's.chain')
      .whereIn('s.pseudonym', unique.slice(i, i + size))
      .andWhere('st.requirement', requirement)
      .select('s.pseudonym as subject_pseudonym', 'st.*');
    for (const row of rows) found.set(row.subject_pseudonym as string, toRecord(row));
  }
  return pseudonyms.map((p) => found.get(p) ?? null);
}

/** Stores the sealed id of the subject linked to `pseudonym`; false when none is. */
export async function storeSealedSubject(ctx: TableContext, pseudonym: string, seal: (chain: string) => string): Promise<boolean> {
  const subjects = ctx.table('subjects');
  const row: Row | undefined = await ctx.knex(subjects).where({ pseudonym }).first('chain');
  if (!row) return false;
  const chain = row.chain as string;
  // Only while the chain is still the subject's: an erasure in between unlinks it.
  const updated = await ctx.knex(subjects).where({ chain, pseudonym }).update({ sealed_subject: seal(chain) });
  return updated > 0;
}

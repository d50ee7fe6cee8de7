import type { AudienceEntry, AudienceQuery } from '../tracker/audience-capability';
import type { TableContext } from './chain-store';
import { chainRecords } from './chain-scan';
import { headColumns, headOf, joinHead } from './head-rows';
import { readRows } from './json-page';
import { bytes, hex, hexOrNull, idOrNull } from './row-codec';
import { pageColumns, type Row } from './rows';

// A subject's head (its position and hash from its newest event), link and sealed id: with its
// records, the snapshot `current()` reads.
const subjectPage = (subjects: string): Record<string, string> => ({
  ...Object.fromEntries(['chain', 'pseudonym'].map((c) => [c, `${subjects}.${c}`])),
  ...headColumns(),
  ...Object.fromEntries(['head_id', 'head_mac', 'sealed_subject'].map((c) => [c, `${subjects}.${c}`])),
});

const byChain = (a: unknown[], b: unknown[]): boolean => (a[0] as string) < (b[0] as string);

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
  const q = joinHead(ctx.knex(subjects), ctx.table('events'), subjects).whereNotNull(`${subjects}.pseudonym`).orderBy(chain).limit(query.limit);
  if (query.after !== undefined) q.where(chain, '>', bytes(query.after));
  const rows = await readRows(ctx.knex, q, pageColumns(ctx.knex, subjectPage(subjects)), byChain);
  const records = await chainRecords(ctx, rows.map((row) => hex(row.chain)), true);
  return rows.map((row) => {
    const chain = hex(row.chain);
    return {
      snapshot: {
        chain,
        pseudonym: hex(row.pseudonym),
        ...headOf(row),
        headId: idOrNull(row.head_id),
        mac: hex(row.head_mac),
        records: records.get(chain) ?? [],
      },
      sealedSubject: hexOrNull(row.sealed_subject),
    };
  });
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

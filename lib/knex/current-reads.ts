import type { Knex } from 'knex';
import type { SubjectSnapshot } from '../tracker/records';
import type { Outcome } from './coalescer';
import { headColumns, joinHead } from './head-rows';
import { bytes } from './row-codec';
import { rawRows, snapshotsByPseudonym } from './rows';
import type { TableContext } from './table-context';

/**
 * The guard's reads on a cache miss: the heads and records of the pseudonyms asked together, in
 * one statement, compiled once per number of pseudonyms.
 */
export class CurrentReads {
  private readonly sql = new Map<number, string>();

  constructor(private readonly ctx: TableContext & { readonly knex: Knex }) {}

  /** The snapshot of each pseudonym (null for one not stored), in the order asked. */
  async read(pseudonyms: string[]): Promise<Outcome<SubjectSnapshot | null>[]> {
    const unique = [...new Set(pseudonyms)];
    const bySubject = snapshotsByPseudonym(rawRows(await this.ctx.knex.raw(this.statement(unique.length), unique.map(bytes))));
    return pseudonyms.map((p) => ({ ok: true, value: bySubject.get(p) ?? null }));
  }

  private statement(count: number): string {
    let sql = this.sql.get(count);
    if (sql === undefined) {
      const { ctx } = this;
      // From the subject row: a subject whose records are all gone still has its head to check.
      sql = joinHead(ctx.knex(`${ctx.table('subjects')} as s`), ctx.table('events'), 's')
        .leftJoin(`${ctx.table('states')} as st`, 'st.chain', 's.chain')
        .whereIn('s.pseudonym', Array.from({ length: count }, () => ''))
        .select('s.chain as head_chain', 's.pseudonym as head_pseudonym', headColumns('head_seq'), 's.head_id', 's.head_mac', 'st.*')
        .toSQL().sql;
      this.sql.set(count, sql);
    }
    return sql;
  }
}

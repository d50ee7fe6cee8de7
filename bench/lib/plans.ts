import type { Knex } from 'knex';
import { isPostgres } from '../../lib/knex/migrate';

/** One statement as Knex sent it. */
export interface SentStatement {
  sql: string;
  bindings: unknown[];
}

/** The statements `knex` sends while `work` runs. */
export async function captureStatements(knex: Knex, work: () => Promise<unknown>): Promise<SentStatement[]> {
  const captured: SentStatement[] = [];
  const listener = (q: { sql: string; bindings?: unknown[] }) => captured.push({ sql: q.sql, bindings: q.bindings ?? [] });
  knex.on('query', listener);
  try {
    await work();
  } finally {
    knex.off('query', listener);
  }
  return captured;
}

/** The query plan of `statement`, one line per plan row (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL). */
export async function queryPlan(knex: Knex, statement: SentStatement): Promise<string[]> {
  const postgres = isPostgres(knex);
  // PostgreSQL queries arrive with $n placeholders; knex.raw takes `?` in binding order.
  const order = [...statement.sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]) - 1);
  const sql = order.length > 0 ? statement.sql.replace(/\$\d+/g, '?') : statement.sql;
  const bindings = order.length > 0 ? order.map((i) => statement.bindings[i]) : statement.bindings;
  const explain = `${postgres ? 'EXPLAIN' : 'EXPLAIN QUERY PLAN'} ${sql}`;
  const result = (await knex.raw(explain, bindings as Knex.RawBinding[])) as unknown;
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;
  return rows.map((r) => String(r.detail ?? r['QUERY PLAN']));
}

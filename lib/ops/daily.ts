import type { Knex } from 'knex';
import type { Row } from '../knex/rows';

/** Grants and withdrawals of one UTC day. */
export interface DayCount {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  grants: number;
  withdrawals: number;
}

const DAY_MS = 86_400_000;

/**
 * Grants and withdrawals per UTC day over the last `days` days up to `now` (today included),
 * zero-filled and oldest first. One grouped query on the `at` index.
 */
export async function dailyCounts(knex: Knex, prefix: string, now: number, days = 30): Promise<DayCount[]> {
  const today = Math.floor(now / DAY_MS);
  const first = today - days + 1;
  // Integer division of BIGINT epoch ms is a whole day number in both SQLite and PostgreSQL.
  const rows: Row[] = await knex(`${prefix}events`)
    // The divisor is inlined (a constant): PostgreSQL matches GROUP BY expressions by text.
    .select(knex.raw(`at / ${DAY_MS} as day`), 'action')
    .count({ n: '*' })
    .where('at', '>=', first * DAY_MS)
    .whereIn('action', ['grant', 'withdraw'])
    .groupByRaw(`at / ${DAY_MS}, action`);
  const byDay = new Map<number, DayCount>();
  for (let d = first; d <= today; d += 1) {
    byDay.set(d, { day: new Date(d * DAY_MS).toISOString().slice(0, 10), grants: 0, withdrawals: 0 });
  }
  for (const row of rows) {
    const entry = byDay.get(Math.floor(Number(row.day)));
    if (!entry) continue;
    if (row.action === 'grant') entry.grants += Number(row.n);
    else entry.withdrawals += Number(row.n);
  }
  return [...byDay.values()];
}

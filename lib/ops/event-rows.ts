import type { Knex } from 'knex';
import type { Row } from '../knex/rows';

/** Rows per page of an event scan. */
export const EXPORT_PAGE = 1000;

/** The number of stored events (for progress). */
export async function countEvents(knex: Knex, prefix: string): Promise<number> {
  const row: Row | undefined = await knex(`${prefix}events`).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

import type { Knex } from 'knex';

/**
 * Admin audit search (`GET /admin/events`): filters by action or requirement read newest first by id, and
 * the per-action counts of `/admin/stats` come from an index instead of the whole table.
 */
export function adminSchema(prefix: string): Knex.Migration {
  const events = `${prefix}events`;
  return {
    async up(knex) {
      await knex.schema.alterTable(events, (table) => {
        table.index(['action', 'id'], `${events}_action_id_index`);
        table.index(['requirement', 'id'], `${events}_requirement_id_index`);
      });
    },
    async down(knex) {
      await knex.schema.alterTable(events, (table) => {
        table.dropIndex(['action', 'id'], `${events}_action_id_index`);
        table.dropIndex(['requirement', 'id'], `${events}_requirement_id_index`);
      });
    },
  };
}

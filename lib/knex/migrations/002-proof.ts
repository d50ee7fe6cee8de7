import type { Knex } from 'knex';

/**
 * Proof of consent: each event names its predecessor (id and hash) so that the
 * successor of a deleted event names it; each chain's head names its newest event; a ledger
 * of chains records that a chain exists at all, so that removing a whole chain is caught.
 */
export function proofSchema(prefix: string): Knex.Migration {
  const t = (name: string) => `${prefix}${name}`;
  return {
    async up(knex) {
      await knex.schema.alterTable(t('events'), (table) => {
        table.bigInteger('prev_id').nullable();
        table.string('prev_hash', 64).nullable();
      });
      await knex.schema.alterTable(t('subjects'), (table) => {
        table.bigInteger('head_id').nullable();
      });
      await knex.schema.createTable(t('chains'), (table) => {
        // n is assigned under a lock on the ledger head, so entries are gapless.
        table.bigInteger('n').primary();
        table.string('chain', 32).notNullable().unique();
        table.bigInteger('first_id').notNullable();
        table.bigInteger('prev_first_id').nullable();
        table.string('mac', 64).notNullable();
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists(t('chains'));
      await knex.schema.alterTable(t('subjects'), (table) => table.dropColumn('head_id'));
      await knex.schema.alterTable(t('events'), (table) => {
        table.dropColumn('prev_id');
        table.dropColumn('prev_hash');
      });
    },
  };
}

import type { Knex } from 'knex';

/*
 * Texts people understand:
 * - requirement versions get `texts` (JSON: every locale's text with the GDPR Art. 13 fields;
 *   null for a version with one flat English text) and `effective_from` (when a scheduled
 *   version becomes current; null: from when it was stored). Both are covered by the version's
 *   seal when set.
 * - events get `locale`: the locale of the text the person was shown (null for events recorded
 *   before locales, and for events without a text, such as sweeps). The event's hash covers it
 *   when set.
 * Columns are only added: rows written before keep their seals and hashes.
 */
export function textsSchema(prefix: string): Knex.Migration {
  return {
    async up(knex) {
      await knex.schema.alterTable(`${prefix}requirements`, (table) => {
        table.text('texts').nullable();
        table.bigInteger('effective_from').nullable();
      });
      await knex.schema.alterTable(`${prefix}events`, (table) => {
        table.string('locale', 35).nullable();
      });
    },
    down() {
      return Promise.reject(new Error('009-texts cannot be undone: restore the backup taken before the upgrade'));
    },
  };
}

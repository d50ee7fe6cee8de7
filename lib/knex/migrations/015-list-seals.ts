import type { Knex } from 'knex';

/*
 * `list_seal`: a second seal of a subject row, over the row as stored with its stored id, which
 * audience listings check instead of rebuilding the head seal's text and the id's pseudonym (see
 * lib/audit/list-seal.ts). Null until the subject's next write that knows its id; such a row is
 * judged as before.
 */
export function listSealsSchema(prefix: string): Knex.Migration {
  const t = (name: string) => `${prefix}${name}`;
  return {
    async up(knex) {
      await knex.schema.alterTable(t('subjects'), (table) => {
        table.binary('list_seal').nullable();
      });
    },
    async down(knex) {
      await knex.schema.alterTable(t('subjects'), (table) => table.dropColumn('list_seal'));
    },
  };
}

import type { Knex } from 'knex';

/**
 * Audiences: the subject id, encrypted so that it opens only for its own subject
 * (`sealed_subject`, bytes like the keys and digests since `006-sealed-rows`; see
 * lib/audit/subject-seal.ts), so that the store can list who may be contacted;
 * and where the question was asked (`context`) on events.
 * Columns are only added: rows written before keep null in both.
 */
export function audiencesSchema(prefix: string): Knex.Migration {
  const t = (name: string) => `${prefix}${name}`;
  return {
    async up(knex) {
      await knex.schema.alterTable(t('subjects'), (table) => {
        table.binary('sealed_subject').nullable();
      });
      await knex.schema.alterTable(t('events'), (table) => {
        table.string('context', 200).nullable();
      });
    },
    async down(knex) {
      await knex.schema.alterTable(t('events'), (table) => table.dropColumn('context'));
      await knex.schema.alterTable(t('subjects'), (table) => table.dropColumn('sealed_subject'));
    },
  };
}

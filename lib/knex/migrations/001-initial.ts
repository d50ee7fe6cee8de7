import type { Knex } from 'knex';

/**
 * The initial schema. Released migrations are append-only: never edit one, add the next.
 * Times are epoch milliseconds in BIGINT columns, the same on SQLite and PostgreSQL.
 */
export function initialSchema(prefix: string): Knex.Migration {
  const t = (name: string) => `${prefix}${name}`;
  return {
    async up(knex) {
      await knex.schema.createTable(t('meta'), (table) => {
        table.string('key', 64).primary();
        table.text('value').notNullable();
      });
      await knex.schema.createTable(t('requirements'), (table) => {
        table.string('id', 64).notNullable();
        table.integer('version').notNullable();
        table.string('title', 200).notNullable();
        table.text('description').notNullable();
        table.string('url', 2000).nullable();
        table.string('lawful_basis', 32).notNullable();
        table.string('text_hash', 64).notNullable();
        table.bigInteger('created_at').notNullable();
        table.primary(['id', 'version']);
      });
      await knex.schema.createTable(t('subjects'), (table) => {
        // The chain key is random: erasing the pseudonym leaves nothing that links back.
        table.string('chain', 32).primary();
        table.string('pseudonym', 64).nullable().unique();
        table.integer('seq').notNullable();
        table.string('head_hash', 64).notNullable();
        table.string('head_mac', 64).notNullable();
        table.bigInteger('created_at').notNullable();
        table.bigInteger('erased_at').nullable();
      });
      await knex.schema.createTable(t('events'), (table) => {
        table.bigIncrements('id').primary();
        table.string('chain', 32).notNullable();
        table.integer('seq').notNullable();
        table.string('requirement', 64).notNullable();
        table.integer('version').notNullable();
        table.string('action', 16).notNullable();
        table.string('state', 16).notNullable();
        table.string('source', 16).notNullable();
        table.string('actor', 256).nullable();
        table.bigInteger('at').notNullable();
        table.text('note').nullable();
        table.text('data').nullable();
        table.string('ip', 64).nullable();
        table.string('user_agent', 512).nullable();
        table.string('personal_digest', 64).notNullable();
        table.string('hash', 64).notNullable();
        table.unique(['chain', 'seq']);
        table.index(['chain', 'requirement', 'seq']);
        table.index(['requirement', 'version']);
        table.index(['at']);
      });
      await knex.schema.createTable(t('states'), (table) => {
        table.string('chain', 32).notNullable();
        table.string('requirement', 64).notNullable();
        table.string('decision', 8).nullable();
        table.integer('version').nullable();
        table.bigInteger('decided_at').nullable();
        table.bigInteger('expires_at').nullable();
        table.boolean('gpc_opt_in').notNullable().defaultTo(false);
        table.integer('pending_version').nullable();
        table.bigInteger('pending_at').nullable();
        table.bigInteger('pending_expires_at').nullable();
        table.string('pending_token', 64).nullable();
        // One current row per subject and requirement: concurrent writers cannot duplicate it.
        table.primary(['chain', 'requirement']);
        table.index(['pending_token']);
        table.index(['requirement', 'decision']);
      });
    },
    async down(knex) {
      for (const name of ['states', 'events', 'subjects', 'requirements', 'meta']) {
        await knex.schema.dropTableIfExists(t(name));
      }
    },
  };
}

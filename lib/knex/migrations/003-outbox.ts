import type { Knex } from 'knex';

/**
 * The lifecycle schema: the outbox of durable event handlers, and the flag the sweep sets once
 * it has recorded the `expire` event of a lapsed grant.
 */
export function outboxSchema(prefix: string): Knex.Migration {
  const t = (name: string) => `${prefix}${name}`;
  return {
    async up(knex) {
      await knex.schema.createTable(t('outbox'), (table) => {
        table.bigIncrements('id').primary();
        table.string('handler', 64).notNullable();
        table.string('event', 16).notNullable();
        // The subject's chain: erasure deletes the subject's entries through it.
        table.string('chain', 32).notNullable();
        table.bigInteger('event_id').nullable();
        // Encrypted (AES-256-GCM): the payload names the subject.
        table.text('payload').notNullable();
        table.integer('attempts').notNullable().defaultTo(0);
        table.bigInteger('available_at').notNullable();
        table.bigInteger('locked_until').nullable();
        table.string('claim', 32).nullable();
        table.bigInteger('created_at').notNullable();
        table.index(['handler', 'available_at']);
        table.index(['chain']);
      });
      await knex.schema.alterTable(t('states'), (table) => {
        table.boolean('expiry_recorded').notNullable().defaultTo(false);
        table.index(['decision', 'expiry_recorded', 'expires_at']);
      });
    },
    async down(knex) {
      await knex.schema.alterTable(t('states'), (table) => {
        table.dropIndex(['decision', 'expiry_recorded', 'expires_at']);
        table.dropColumn('expiry_recorded');
      });
      await knex.schema.dropTableIfExists(t('outbox'));
    },
  };
}

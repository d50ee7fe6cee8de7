import type { Knex } from 'knex';
import { quote as q } from '../quote';

/**
 * Fewer index entries per write, for the same reads:
 * - events `(chain, requirement, seq)` goes: a subject's history filtered by requirement reads
 *   the subject's events through `(chain, seq)`, a handful of rows per person;
 * - states `(requirement, decision)` goes: no query reads through it (the stats group the whole
 *   table);
 * - the states indexes of pending tokens and of lapsing grants keep only the rows they find:
 *   `pending_token = ?` and `expires_at <= ?` both imply the column is not null, so SQLite and
 *   PostgreSQL read these partial indexes, which skip the many records without a token or an
 *   expiry.
 */
export function leanIndexesSchema(prefix: string): Knex.Migration {
  const events = `${prefix}events`;
  const states = `${prefix}states`;
  const pendingIndex = `${states}_pending_token_index`;
  const expiryIndex = `${states}_decision_expiry_recorded_expires_at_index`;
  return {
    async up(knex) {
      await knex.schema.alterTable(events, (table) => table.dropIndex(['chain', 'requirement', 'seq']));
      await knex.schema.alterTable(states, (table) => {
        table.dropIndex(['requirement', 'decision']);
        table.dropIndex(['pending_token'], pendingIndex);
        table.dropIndex(['decision', 'expiry_recorded', 'expires_at'], expiryIndex);
      });
      await knex.raw(`create index ${q(pendingIndex)} on ${q(states)} ("pending_token") where "pending_token" is not null`);
      await knex.raw(
        `create index ${q(expiryIndex)} on ${q(states)} ("decision", "expiry_recorded", "expires_at") where "expires_at" is not null`,
      );
    },
    async down(knex) {
      await knex.schema.alterTable(states, (table) => {
        table.dropIndex(['pending_token'], pendingIndex);
        table.dropIndex(['decision', 'expiry_recorded', 'expires_at'], expiryIndex);
      });
      await knex.schema.alterTable(states, (table) => {
        table.index(['pending_token'], pendingIndex);
        table.index(['decision', 'expiry_recorded', 'expires_at'], expiryIndex);
        table.index(['requirement', 'decision']);
      });
      await knex.schema.alterTable(events, (table) => table.index(['chain', 'requirement', 'seq']));
    },
  };
}

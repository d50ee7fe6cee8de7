import type { Knex } from 'knex';
import { quote as q } from '../quote';
import { encodeLeaves } from '../../audit/log-leaf';

// Existing events per backfilled log entry.
const BACKFILL_PAGE = 5000;

const hexOf = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('hex') : String(value));

/**
 * The global log: one entry per write transaction listing its events' leaves (`log`), and the
 * stored blocks of its Merkle tree that inclusion proofs are built from (`log_blocks`). It
 * replaces the ledger of chains: a chain removed whole, or a subject's newest events removed,
 * shows because the log still names those events.
 *
 * The events already stored enter the log here, in id order; folding them into the tree needs
 * the secret, so the library seals them when it next starts (or at the first `verify()`).
 */
export function logSchema(prefix: string): Knex.Migration {
  const t = (name: string) => `${prefix}${name}`;
  return {
    async up(knex) {
      const postgres = (knex.client as { dialect?: string }).dialect === 'postgresql';
      if (postgres) {
        // The writer's transaction id (txid_current is available on every supported release).
        await knex.raw(
          `create table ${q(t('log'))} ("tx" bigint not null default txid_current(), "part" integer not null default 0, ` +
            `"leaves" bytea not null, primary key ("tx", "part"))`,
        );
      } else {
        // AUTOINCREMENT: an id is never handed out twice, even after the newest row was deleted.
        await knex.raw(
          `create table ${q(t('log'))} ("tx" integer primary key autoincrement, "part" integer not null default 0, "leaves" blob not null)`,
        );
      }
      await knex.schema.createTable(t('log_blocks'), (table) => {
        table.bigInteger('idx').primary();
        table.binary('hash').notNullable();
        table.bigInteger('entry_tx').notNullable();
        table.integer('entry_part').notNullable();
        table.integer('start_offset').notNullable();
        table.bigInteger('min_id').notNullable();
        table.bigInteger('max_id').notNullable();
      });
      let after = 0;
      for (let part = 0; ; part += 1) {
        const rows: Array<{ id: unknown; hash: unknown }> = await knex(t('events')).where('id', '>', after).orderBy('id').limit(BACKFILL_PAGE).select('id', 'hash');
        if (rows.length === 0) break;
        const leaves = encodeLeaves(rows.map((r) => ({ id: String(r.id), hash: hexOf(r.hash) })));
        await knex(t('log')).insert(postgres ? { part, leaves } : { leaves });
        after = Number((rows[rows.length - 1] as { id: unknown }).id);
        if (rows.length < BACKFILL_PAGE) break;
      }
      await knex.schema.dropTable(t('chains'));
      await knex(t('meta')).where({ key: 'ledger' }).delete();
    },
    async down(knex) {
      await knex.schema.dropTableIfExists(t('log_blocks'));
      await knex.schema.dropTableIfExists(t('log'));
      await knex.schema.createTable(t('chains'), (table) => {
        table.bigInteger('n').primary();
        table.string('chain', 32).notNullable().unique();
        table.bigInteger('first_id').notNullable();
        table.bigInteger('prev_first_id').nullable();
        table.string('mac', 64).notNullable();
      });
    },
  };
}

import type { Knex } from 'knex';

const TABLES = ['meta', 'requirements', 'subjects', 'events', 'outbox', 'log', 'log_blocks'];
type Row = Record<string, unknown>;

/** A copy of every row of every table of the library (prefix `consent_`): a backup to restore later. */
export type StoreCopy = Record<string, Row[]>;

export async function copyStore(knex: Knex): Promise<StoreCopy> {
  const copy: StoreCopy = {};
  for (const table of TABLES) copy[table] = (await knex(`consent_${table}`).select('*')) as Row[];
  return copy;
}

/**
 * Puts the copy back in place of everything stored now, as a restore from a backup would: in one
 * transaction, so that an instance still running (its log sealer writes soon after a write) sees
 * the store before or after, never half restored.
 */
export async function restoreStore(knex: Knex, copy: StoreCopy): Promise<void> {
  await knex.transaction(async (trx) => {
    for (const table of TABLES) {
      await trx(`consent_${table}`).delete();
      const rows = copy[table] as Row[];
      for (let i = 0; i < rows.length; i += 100) await trx(`consent_${table}`).insert(rows.slice(i, i + 100));
    }
  });
}

import type { Knex } from 'knex';

/*
 * Salted personal digests: events get `personal_salt`, random bytes that an event's personal
 * digest covers with its personal fields (actor, note, data, network details), so that equal
 * fields in two writes no longer give equal digests. Erasure removes it with them: the digest
 * that stays for the chain's hash then matches no other write's and no guess. Null for events
 * without personal fields and for events recorded before: the column is only added, and rows
 * written before keep their digests and hashes.
 */
export function personalSaltsSchema(prefix: string): Knex.Migration {
  return {
    async up(knex) {
      await knex.schema.alterTable(`${prefix}events`, (table) => {
        table.binary('personal_salt').nullable();
      });
    },
    down() {
      return Promise.reject(new Error('011-personal-salts cannot be undone: restore the backup taken before the upgrade'));
    },
  };
}

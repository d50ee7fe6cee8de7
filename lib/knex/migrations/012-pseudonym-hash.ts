import type { Knex } from 'knex';
import { quote as q } from '../quote';

/*
 * On PostgreSQL, the subjects' pseudonyms are kept apart by a hash index instead of a B-tree.
 * Pseudonyms are keyed hashes, only ever looked up by equality, and arrive in random order: a
 * B-tree entry held the whole 32 bytes and its pages stayed about two thirds full (about 79 bytes
 * per subject), a hash entry holds a 4-byte hash code (about 30–50 bytes per subject, depending
 * on where the index is in its growth). A hash index cannot be UNIQUE, so an exclusion
 * constraint (`exclude using hash (pseudonym with =)`) keeps one subject per pseudonym, under the
 * same name; inserts that skip conflicts (`on conflict do nothing`) treat it as they treated the
 * unique constraint. SQLite has no hash index: its schema does not change.
 */
export function pseudonymHashSchema(prefix: string): Knex.Migration {
  return {
    async up(knex) {
      if ((knex.client as { dialect?: string }).dialect !== 'postgresql') return;
      const subjects = `${prefix}subjects`;
      const name = q(`${subjects}_pseudonym_unique`);
      await knex.raw(`alter table ${q(subjects)} drop constraint if exists ${name}`);
      await knex.raw(`drop index if exists ${name}`);
      await knex.raw(`alter table ${q(subjects)} add constraint ${name} exclude using hash ("pseudonym" with =)`);
    },
    down() {
      return Promise.reject(new Error('012-pseudonym-hash cannot be undone: restore the backup taken before the upgrade'));
    },
  };
}

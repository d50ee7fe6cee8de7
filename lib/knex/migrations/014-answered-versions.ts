import type { Knex } from 'knex';
import { quote as q } from '../quote';

/*
 * PostgreSQL only; SQLite's schema does not change.
 * - Events are indexed by `(requirement, version)` instead of `(requirement, id)`. The index
 *   answers "has anyone answered this version?" (a changed text may replace a version nobody
 *   answered), and holds each of the few pairs once with the list of its rows (PostgreSQL's
 *   B-tree deduplication): a few bytes per event instead of an entry each. The admin search by
 *   requirement, newest or oldest first, walks the events' primary key and stops after a page
 *   when the requirement is common, and reads this index when it is rare: both are cheaper than
 *   the page they return.
 * - Indexes whose keys only grow are filled whole (`fillfactor` 100, from 90): the events' ids,
 *   the chains' keys (time first) and positions. New entries go to the right edge, where a full
 *   page costs nothing; an entry in the middle splits a page either way.
 */
export function answeredVersionsSchema(prefix: string): Knex.Migration {
  const t = (name: string) => `${prefix}${name}`;
  return {
    async up(knex) {
      if ((knex.client as { dialect?: string }).dialect !== 'postgresql') return;
      const events = t('events');
      await knex.raw(`drop index if exists ${q(`${events}_requirement_id_index`)}`);
      await knex.raw(`create index ${q(`${events}_requirement_version_index`)} on ${q(events)} ("requirement", "version")`);
      for (const index of [`${events}_pkey`, `${events}_chain_seq_unique`, `${t('subjects')}_pkey`]) {
        await knex.raw(`alter index ${q(index)} set (fillfactor = 100)`);
      }
    },
    down() {
      return Promise.reject(new Error('014-answered-versions cannot be undone: restore the backup taken before the upgrade'));
    },
  };
}

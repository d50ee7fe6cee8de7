import knexFactory from 'knex';
import { KnexTracker, type ConsentTracker } from '../../lib/tracker';
import { trackerConformance } from '../../lib/testing';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';

const drops = new WeakMap<ConsentTracker, () => Promise<void>>();

describePg('PostgreSQL', () => {
  trackerConformance('KnexTracker on PostgreSQL', {
    async create() {
      const database = await createPgDatabase();
      const tracker = new KnexTracker(knexFactory(pgKnexConfig(database.url)));
      drops.set(tracker, database.drop);
      return tracker;
    },
    async destroy(tracker) {
      await (tracker as unknown as KnexTracker).knex.destroy();
      await drops.get(tracker)?.();
    },
  });
});

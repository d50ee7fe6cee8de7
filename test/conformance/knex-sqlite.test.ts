import knexFactory, { type Knex } from 'knex';
import { KnexTracker, type ConsentTracker } from '../../lib/tracker';
import { trackerConformance } from '../../lib/testing';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

const files = new WeakMap<ConsentTracker, () => void>();

trackerConformance('KnexTracker on an SQLite file', {
  create() {
    const file = tempSqliteFile();
    const tracker = new KnexTracker(knexFactory(sqliteKnexConfig(file.filename)));
    files.set(tracker, file.remove);
    return tracker;
  },
  async destroy(tracker) {
    await (tracker as unknown as KnexTracker).knex.destroy();
    files.get(tracker)?.();
  },
});

trackerConformance('KnexTracker on SQLite :memory:', {
  // One connection: every connection to ":memory:" would be a database of its own.
  create: () => new KnexTracker(knexFactory({ ...sqliteKnexConfig(':memory:'), pool: { min: 1, max: 1 } } as Knex.Config)),
  destroy: (tracker) => (tracker as unknown as KnexTracker).knex.destroy(),
});

trackerConformance('KnexTracker on an SQLite file through better-sqlite3', {
  create() {
    const file = tempSqliteFile();
    const config: Knex.Config = { client: 'better-sqlite3', connection: { filename: file.filename }, useNullAsDefault: true };
    const tracker = new KnexTracker(knexFactory(config));
    files.set(tracker, file.remove);
    return tracker;
  },
  async destroy(tracker) {
    await (tracker as unknown as KnexTracker).knex.destroy();
    files.get(tracker)?.();
  },
});

import { expect } from 'chai';
import knexFactory from 'knex';
import { SqliteWatch } from '../../lib/knex/sqlite-watch';
import type { ChangeHandlers } from '../../lib/tracker/queries';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

/** Handlers recording what they were told; every call throws when `throws`. */
function recorder(throws: boolean): ChangeHandlers & { told: string[] } {
  const told: string[] = [];
  const say = (what: string): void => {
    told.push(what);
    if (throws) throw new Error('handler failed');
  };
  return {
    told,
    onChange: (p) => { say(`change ${p}`); },
    onReset: () => { say('reset'); },
    onSynced: () => { say('synced'); },
    onError: () => { say('error'); },
  };
}

describe('the SQLite change watch of one Knex, shared by its trackers', () => {
  it('tells every watcher of another process\'s write, though one watcher\'s handlers throw', async () => {
    const file = tempSqliteFile();
    const ours = knexFactory(sqliteKnexConfig(file.filename));
    const theirs = knexFactory(sqliteKnexConfig(file.filename));
    const failing = recorder(true);
    const healthy = recorder(false);
    const watches = [new SqliteWatch(ours, failing), new SqliteWatch(ours, healthy)];
    try {
      await ours.raw('create table t (v integer)');
      for (const watch of watches) await watch.begin();
      failing.told.length = 0;
      healthy.told.length = 0;
      // Another process (another connection) writes: the next poll sees a new data_version.
      await theirs.raw('insert into t values (1)');
      for (let waited = 0; !healthy.told.includes('reset') && waited < 3000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(healthy.told.slice(0, 2)).to.deep.equal(['reset', 'synced']);
      // The failing watcher: its onReset threw, so its onError, then onReset again.
      expect(failing.told.slice(0, 3)).to.deep.equal(['reset', 'error', 'reset']);
    } finally {
      for (const watch of watches) await watch.close();
      await ours.destroy();
      await theirs.destroy();
      file.remove();
    }
  });
});

import { expect } from 'chai';
import type { Knex } from 'knex';
import { defaultKnex } from '../../lib/knex/default-knex';
import { SqliteFile } from '../../lib/knex/sqlite-file';
import { tempSqliteFile } from '../helpers/databases';

describe('SqliteFile', () => {
  it('asks again after a check that could not read which file the database is', async () => {
    const file = tempSqliteFile();
    const knex = defaultKnex(file.filename);
    try {
      await knex.raw('create table t (x integer)');
      const sqlite = new SqliteFile(knex);
      const failing = { raw: () => Promise.reject(new Error('interrupted')) } as unknown as Knex.Transaction;
      expect(await sqlite.check(failing).then(() => null, (error: unknown) => (error as Error).message)).to.equal('interrupted');
      await knex.transaction((trx) => sqlite.check(trx));
    } finally {
      await knex.destroy();
      file.cleanup();
    }
  });
});

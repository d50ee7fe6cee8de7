import { expect } from 'chai';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import knexFactory from 'knex';
import {
  createPgDatabase, describePg, pgKnexConfig, pgAvailable, tempSqliteFile, sqliteKnexConfig, chromiumPath, describeBrowser,
} from './helpers/databases';

describe('zz smoke: plain', () => {
  it('passes', () => {
    expect(1 + 1).to.equal(2);
  });
  it('sqlite file helper', async () => {
    const file = tempSqliteFile();
    const knex = knexFactory(sqliteKnexConfig(file.filename));
    try {
      const rows = await knex.raw('select 1 as one');
      expect(rows[0].one).to.equal(1);
      writeFileSync(file.filename + '-journal', 'x');
    } finally {
      await knex.destroy();
      file.cleanup();
    }
    expect(existsSync(dirname(file.filename))).to.equal(false);
  });
  it('reports env', () => {
    console.log('    pgAvailable', pgAvailable(), 'chromium', chromiumPath());
  });
});

describePg('zz smoke: PostgreSQL', () => {
  it('creates, uses and drops a database while a pool is still connected', async () => {
    const database = await createPgDatabase();
    expect(database.url).to.match(/\/ec_test_[0-9a-f]+$/);
    const knex = knexFactory(pgKnexConfig(database.url));
    const { rows } = await knex.raw('select 1 as one, current_database() as db');
    expect(rows[0].one).to.equal(1);
    expect(database.url.endsWith(`/${rows[0].db}`)).to.equal(true);
    await database.drop(); // pool still holds a connection
    await knex.destroy().catch(() => undefined);
    const admin = knexFactory(pgKnexConfig(process.env.CONSENT_TEST_PG_URL as string));
    const left = await admin.raw("select count(*)::int as n from pg_database where datname like 'ec_test_%'");
    await admin.destroy();
    expect(left.rows[0].n).to.equal(0);
  });
});

describeBrowser('zz smoke: browser', () => {
  it('has a chromium', () => {
    expect(chromiumPath()).to.be.a('string');
  });
});

if (process.env.ZZ_FAIL) {
  describe('zz smoke: failures', () => {
    before(() => { throw new Error('hook fails'); });
    it('never runs', () => undefined);
  });
  describe('zz smoke: failing test', () => {
    it('fails', () => expect(1).to.equal(2));
    it.skip('skipped', () => undefined);
  });
}

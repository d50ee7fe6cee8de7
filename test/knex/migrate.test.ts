import { expect } from 'chai';
import { MIGRATION_NAMES } from '../../lib/knex/migrations/index';
import knexFactory, { type Knex } from 'knex';
import { createConsent, ConsentConfigError, ConsentError, KnexTracker, migrate } from '../../lib/index';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { describeEachDatabase } from '../helpers/each-database';

// No `states` since 013-folded-records: a subject's records are in its row.
const TABLES = ['log', 'log_blocks', 'meta', 'requirements', 'subjects', 'events', 'outbox', 'migrations'];
const SECRET = 'm'.repeat(32);

async function withSqlite(body: (knex: Knex) => Promise<void>): Promise<void> {
  const file = tempSqliteFile();
  const knex = knexFactory(sqliteKnexConfig(file.filename));
  try {
    await body(knex);
  } finally {
    await knex.destroy();
    file.remove();
  }
}

async function tableNames(knex: Knex): Promise<string[]> {
  const rows: Array<{ name: string }> = await knex('sqlite_master').where({ type: 'table' }).select('name');
  return rows.map((r) => r.name).filter((n) => !n.startsWith('sqlite_')).sort();
}

async function rejection(promise: Promise<unknown>): Promise<ConsentError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(ConsentError);
    return error as ConsentError;
  }
  throw new Error('expected a rejection');
}

describe('migrations (SQLite)', () => {
  it('creates every table from an empty database, and a second run is a no-op', () =>
    withSqlite(async (knex) => {
      expect(await migrate(knex)).to.deep.equal([...MIGRATION_NAMES]);
      const expected = [...TABLES.map((t) => `consent_${t}`), 'consent_migrations_lock'].sort();
      expect(await tableNames(knex)).to.deep.equal(expected);
      const applied = await knex('consent_migrations').select('name');
      expect(await migrate(knex)).to.deep.equal([]);
      expect(await knex('consent_migrations').select('name')).to.deep.equal(applied);
      expect(applied.map((r) => r.name)).to.deep.equal(['001-initial', '002-proof', '003-outbox', '004-admin', '005-lean-indexes', '006-sealed-rows', '007-log', '008-audiences', '009-texts', '010-lean-rows', '011-personal-salts', '012-pseudonym-hash', '013-folded-records', '014-answered-versions']);
      expect([...MIGRATION_NAMES]).to.deep.equal(['001-initial', '002-proof', '003-outbox', '004-admin', '005-lean-indexes', '006-sealed-rows', '007-log', '008-audiences', '009-texts', '010-lean-rows', '011-personal-salts', '012-pseudonym-hash', '013-folded-records', '014-answered-versions']);
    }));

  it('is not stopped by a second row in Knex\'s lock table (two processes that created it at once), and removes it', () =>
    withSqlite(async (knex) => {
      await migrate(knex);
      expect(await knex('consent_migrations_lock').select('index', 'is_locked')).to.deep.equal([{ index: 1, is_locked: 0 }]);
      // What Knex's own table creation can leave when two processes find the table empty at once.
      await knex.schema.dropTable('consent_migrations_lock');
      await knex.schema.createTable('consent_migrations_lock', (t) => { t.increments('index').primary(); t.integer('is_locked'); });
      await knex('consent_migrations_lock').insert([{ is_locked: 0 }, { is_locked: 0 }]);
      expect(await migrate(knex)).to.deep.equal([]);
      expect(await knex('consent_migrations_lock').select('index', 'is_locked')).to.deep.equal([{ index: 1, is_locked: 0 }]);
    }));

  it('fails at once, naming the cause, when the database cannot be written (no wait for a lock)', () =>
    withSqlite(async (knex) => {
      await migrate(knex);
      await knex('consent_migrations').where({ name: MIGRATION_NAMES.at(-1) }).delete();
      // Knex's lock is taken by an update of its lock row: fail it as a read-only directory does.
      await knex.raw("create trigger lock_readonly before update on consent_migrations_lock begin select raise(abort, 'attempt to write a readonly database'); end");
      let attempts = 0;
      knex.on('query', (query: { sql: string }) => { if (/^update .consent_migrations_lock./.test(query.sql)) attempts += 1; });
      const failure = await migrate(knex).then(() => null, (error: unknown) => error as Error);
      expect(failure?.message).to.contain('attempt to write a readonly database');
      expect(attempts).to.equal(1, 'taken for a busy lock, it was tried again and again');
    }));

  it('refuses a database migrated by a newer release with schema_mismatch', () =>
    withSqlite(async (knex) => {
      await migrate(knex);
      await knex('consent_migrations').insert({ name: '999-from-the-future', batch: 2, migration_time: new Date() });
      expect((await rejection(migrate(knex))).code).to.equal('schema_mismatch');
      for (const autoMigrate of [true, false]) {
        const consent = createConsent({ knex, secret: SECRET, autoMigrate });
        const error = await rejection(consent.ready());
        expect(error.code).to.equal('schema_mismatch');
        expect(error.message).to.contain('999-from-the-future');
      }
    }));

  it('with autoMigrate: false refuses an empty database and creates nothing', () =>
    withSqlite(async (knex) => {
      const consent = createConsent({ knex, secret: SECRET, autoMigrate: false });
      const error = await rejection(consent.ready());
      expect(error.code).to.equal('schema_mismatch');
      expect(error.message).to.contain('migrate(knex)');
      expect(await tableNames(knex)).to.deep.equal([]);
      await migrate(knex);
      const migrated = createConsent({ knex, secret: SECRET, autoMigrate: false });
      try {
        migrated.register({ id: 'a', title: 'A', description: 'A' });
        await migrated.ready();
        expect((await migrated.record('s', { a: 'granted' })).states.a?.state).to.equal('granted');
      } finally {
        await migrated.close();
      }
    }));

  it('honours tablePrefix everywhere', () =>
    withSqlite(async (knex) => {
      const consent = createConsent({ knex, secret: SECRET, tablePrefix: 'acme_' });
      try {
        consent.register({ id: 'a', title: 'A', description: 'A' });
        await consent.ready();
        await consent.record('s', { a: 'granted' });
        expect(await tableNames(knex)).to.deep.equal([...TABLES.map((t) => `acme_${t}`), 'acme_migrations_lock'].sort());
        expect(await knex('acme_events').count({ n: '*' }).first()).to.deep.equal({ n: 1 });
        await migrate(knex, { tablePrefix: 'other_' });
        expect((await tableNames(knex)).filter((n) => n.startsWith('other_'))).to.have.length(TABLES.length + 1);
      } finally {
        // Its change feed polls the file until closed: before the database goes.
        await consent.close();
      }
    }));
});

describeEachDatabase('a table prefix the library could not use', (openDb) => {
  it('is refused by migrate() and new KnexTracker() as by createConsent(), and nothing is created', async () => {
    const db = await openDb();
    const { knex } = db;
    try {
      const postgres = (knex.client as { dialect?: string }).dialect === 'postgresql';
      const tables = async () => JSON.stringify(await knex.raw(postgres ? 'select tablename from pg_tables where schemaname = current_schema() order by 1' : 'select name from sqlite_master order by 1'));
      const before = await tables();
      for (const tablePrefix of ['odd"q_', 'Bad-', '', 'x'.repeat(32)]) {
        let failure: unknown = null;
        await migrate(knex, { tablePrefix }).catch((error: unknown) => { failure = error; });
        expect(failure, tablePrefix).to.be.instanceOf(ConsentConfigError).and.to.include({ code: 'invalid_option' });
        expect(String(failure)).to.contain('migrate(): tablePrefix must match');
        expect(() => new KnexTracker(knex, { tablePrefix })).to.throw(ConsentConfigError, /new KnexTracker\(\): tablePrefix must match/);
      }
      expect(await tables()).to.equal(before);
    } finally {
      await db.release();
    }
  });
});

import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';
import { allStoredRecords } from '../helpers/records';

describePg('concurrent writes (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createPgDatabase>>;
  let knex: Knex;

  beforeEach(async () => {
    database = await createPgDatabase();
    knex = knexFactory(pgKnexConfig(database.url));
  });

  afterEach(async () => {
    await knex.destroy();
    await database.drop();
  });

  it('50 parallel record() calls for one subject: one current row, 50 chained events', async () => {
    // Two instances with their own pools, as two processes would have.
    const other = knexFactory(pgKnexConfig(database.url));
    // Closed before the database is dropped: an open instance's change listener would keep
    // reconnecting to it, logging an error each time, for the rest of the run.
    let instances: Consent[] = [];
    try {
      instances = [knex, other].map((k) => {
        const consent = createConsent({ knex: k, secret: 'c'.repeat(32), storeTimeoutMs: 30_000 });
        consent.register({ id: 'analytics', title: 'Analytics', description: 'Pages you open' });
        return consent;
      });
      await Promise.all(instances.map((c) => c.ready()));
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          instances[i % 2]!.record('racer', { analytics: i % 3 === 0 ? 'denied' : 'granted' }),
        ),
      );
      // One current record, in the one subject row.
      expect((await allStoredRecords(knex)).map((r) => r.requirement)).to.deep.equal(['analytics']);
      expect(await knex('consent_subjects').count({ n: '*' }).first()).to.deep.equal({ n: '1' });
      const seqs: Array<{ seq: number }> = await knex('consent_events').orderBy('seq').select('seq');
      expect(seqs.map((r) => r.seq)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
      const head = await knex('consent_subjects as s').join('consent_events as e', 'e.id', 's.head_id').first('e.seq');
      expect(head.seq).to.equal(50);
      const { events } = await instances[0]!.history('racer', { limit: 200 });
      expect(events).to.have.length(50);
      expect(new Set(events.map((e) => e.id)).size).to.equal(50);
    } finally {
      await Promise.all(instances.map((c) => c.close()));
      await other.destroy();
    }
  });

  it('parallel first writes for many subjects create one subject row each', async () => {
    const consent = createConsent({ knex, secret: 'c'.repeat(32), storeTimeoutMs: 30_000 });
    consent.register([{ id: 'a', title: 'A', description: 'A' }, { id: 'b', title: 'B', description: 'B' }]);
    await consent.ready();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => consent.record(`s${String(i % 10)}`, Math.floor(i / 10) % 2 ? { a: 'granted' } : { b: 'denied' })),
    );
    expect(await knex('consent_subjects').count({ n: '*' }).first()).to.deep.equal({ n: '10' });
    const records = await allStoredRecords(knex);
    expect(records).to.have.length(20);
    expect(new Set(records.map((r) => `${r.chain}/${r.requirement}`)).size).to.equal(20);
    expect(await knex('consent_events').count({ n: '*' }).first()).to.deep.equal({ n: '40' });
    await consent.close();
  });
});

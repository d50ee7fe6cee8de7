import { expect } from 'chai';
import type { Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const SECRET = 'log-leaves-secret-0123456789abcdef012345678';

// A read of the global log's entries (not of its blocks), quoted as either database quotes.
const ENTRIES = /from [`"]consent_log[`"]/;

/** The rows of the global log's entries that `knex` read while `step` ran. */
async function entriesRead(knex: Knex, step: () => Promise<unknown>): Promise<number> {
  let rows = 0;
  const listener = (response: unknown, query: { sql: string }): void => {
    if (ENTRIES.test(query.sql) && Array.isArray(response)) rows += response.length;
  };
  knex.on('query-response', listener);
  try {
    await step();
  } finally {
    knex.removeListener('query-response', listener);
  }
  return rows;
}

describeEachDatabase('the leaves of a receipt\'s inclusion proof', (open) => {
  let db: TestDatabase;
  let consent: Consent;

  beforeEach(async () => {
    db = await open();
    consent = createConsent({ knex: db.knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register({ id: 'a', title: 'a', description: 'a' });
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('are read from the entry that holds them: an import of many batches costs a receipt no more than one', async () => {
    // Eight imports of 600 decisions: eight entries of the log, each holding two or more blocks of 256 leaves.
    const at = Date.now() - 60_000;
    for (let batch = 0; batch < 8; batch += 1) {
      const items = Array.from({ length: 600 }, (_, i) => ({ subjectId: `u${String(batch * 600 + i)}`, requirement: 'a', decision: 'granted', at }));
      await consent.import(items, { batchSize: 600 });
    }
    await consent.record('last', { a: 'denied' });
    await consent.receipt('u0');
    for (const subject of ['u10', 'u1500', 'u4700', 'last']) {
      let receipt: unknown;
      const read = await entriesRead(db.knex, async () => { receipt = await consent.receipt(subject); });
      expect(receipt, subject).to.be.an('object');
      // The entries of the event's block (one or two: on PostgreSQL a batch's events are in
      // pseudonym order), and those of the log's last, partly filled block (two).
      expect(read, subject).to.be.at.most(4);
    }
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 4801 });
  });
});

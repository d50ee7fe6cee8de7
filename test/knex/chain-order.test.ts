import { expect } from 'chai';
import { createConsent } from '../../lib/index';
import { describeEachDatabase } from '../helpers/each-database';

const SECRET = 'chain-order-secret-0123456789abcdef0123';

describeEachDatabase('chain keys of subjects created together', (open) => {
  it('ascend in the order the batch writes its subjects, so chain-keyed indexes grow at their right edge', async () => {
    const db = await open();
    const consent = createConsent({ knex: db.knex, secret: SECRET, sweep: false, logger: { warn() {}, error() {} } });
    consent.register({ id: 'terms', title: 'Terms', description: 'Terms of use.' });
    try {
      await consent.ready();
      await consent.import(Array.from({ length: 400 }, (_, i) => ({ subjectId: `s${String(i)}`, requirement: 'terms', decision: 'granted', at: Date.now() - 1000 })));
      const rows: Array<{ chain: Buffer }> = await db.knex('consent_subjects').orderBy('pseudonym').select('chain');
      const chains = rows.map((r) => Buffer.from(r.chain).toString('hex'));
      expect(chains).to.have.length(400);
      expect(chains).to.deep.equal([...chains].sort());
      // And so are their events and records, in the same order.
      const events: Array<{ chain: Buffer }> = await db.knex('consent_events').orderBy('id').select('chain');
      const inIdOrder = events.map((r) => Buffer.from(r.chain).toString('hex'));
      expect(inIdOrder).to.deep.equal([...inIdOrder].sort());
    } finally {
      await consent.close();
      await db.release();
    }
  });
});

import { expect } from 'chai';
import { createConsent } from '../../lib/index';
import { describeEachDatabase } from '../helpers/each-database';

const SECRET = 'parallel-test-secret-0123456789abcdef0123';

describeEachDatabase('chains created and extended by parallel writers', (open) => {
  it('keep a gapless ledger and verify', async () => {
    const db = await open();
    // 50 writes queue on one SQLite connection: no deadline is under test here.
    const consent = createConsent({ knex: db.knex, secret: SECRET, storeTimeoutMs: 60_000, logger: { warn() {}, error() {} } });
    try {
      consent.register([{ id: 'a', title: 'A', description: 'A' }, { id: 'b', title: 'B', description: 'B' }]);
      await consent.ready();
      const subjects = Array.from({ length: 25 }, (_, i) => `s${i}`);
      await Promise.all(subjects.flatMap((s) => [consent.record(s, { a: 'granted' }), consent.record(s, { b: 'denied' })]));
      const ledger = await db.knex('consent_chains').orderBy('n').select('n');
      expect(ledger.map((r: { n: unknown }) => Number(r.n))).to.deep.equal(subjects.map((_, i) => i + 1));
      expect(await consent.verify()).to.deep.equal({ ok: true, checked: 50, problems: [] });
    } finally {
      await consent.close();
      await db.release();
    }
  });
});

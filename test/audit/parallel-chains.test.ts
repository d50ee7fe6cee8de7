import { expect } from 'chai';
import { createConsent } from '../../lib/index';
import { loggedEvents } from '../../lib/testing/fixtures';
import { describeEachDatabase } from '../helpers/each-database';

const SECRET = 'parallel-test-secret-0123456789abcdef0123';

describeEachDatabase('chains created and extended by parallel writers', (open) => {
  it('log every event exactly once and verify', async () => {
    const db = await open();
    // 50 writes queue on one SQLite connection: no deadline is under test here.
    const consent = createConsent({ knex: db.knex, secret: SECRET, storeTimeoutMs: 60_000, logger: { warn() {}, error() {} } });
    try {
      consent.register([{ id: 'a', title: 'A', description: 'A' }, { id: 'b', title: 'B', description: 'B' }]);
      await consent.ready();
      const subjects = Array.from({ length: 25 }, (_, i) => `s${String(i)}`);
      await Promise.all(subjects.flatMap((s) => [consent.record(s, { a: 'granted' }), consent.record(s, { b: 'denied' })]));
      const logged = (await loggedEvents(consent.engine.tracker)).map((e) => e.id).sort();
      const stored = (await db.knex('consent_events').select('id')).map((r: { id: unknown }) => String(r.id)).sort();
      expect(logged).to.deep.equal(stored);
      expect(stored).to.have.length(50);
      expect(await consent.verify()).to.deep.equal({ ok: true, checked: 50, problems: [] });
    } finally {
      await consent.close();
      await db.release();
    }
  });

  it('let writes racing an erasure of the same subject land on one chain or the next, and verify', async () => {
    const db = await open();
    const consent = createConsent({ knex: db.knex, secret: SECRET, storeTimeoutMs: 60_000, logger: { warn() {}, error() {} } });
    try {
      consent.register([{ id: 'a', title: 'A', description: 'A' }]);
      await consent.ready();
      await consent.record('ann', { a: 'granted' });
      const writes = Array.from({ length: 10 }, (_, i) => consent.record('ann', { a: i % 2 ? 'granted' : 'denied' }));
      const [erased] = await Promise.all([consent.erase('ann'), ...writes]);
      expect(erased.events).to.be.within(1, 11);
      const result = await consent.verify();
      expect(result).to.deep.include({ ok: true, checked: 12 });
      expect((await consent.history('ann', { limit: 20 })).events).to.have.length(11 - erased.events);
    } finally {
      await consent.close();
      await db.release();
    }
  });
});

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

  it('follow on from the batch before (also within one second), and a key another writer took is created again elsewhere', async () => {
    const db = await open();
    const consent = createConsent({ knex: db.knex, secret: SECRET, sweep: false, logger: { warn() {}, error() {} } });
    consent.register({ id: 'terms', title: 'Terms', description: 'Terms of use.' });
    try {
      await consent.ready();
      const chainOf = async (subject: string): Promise<string> => {
        const row: { chain: Buffer } | undefined = await db.knex('consent_subjects').where({ pseudonym: Buffer.from(consent.engine.pseudonym(subject), 'hex') }).first('chain');
        return Buffer.from(row?.chain ?? []).toString('hex');
      };
      await consent.record('first', { terms: 'granted' });
      await consent.record('second', { terms: 'granted' });
      const [first, second] = [await chainOf('first'), await chainOf('second')];
      expect(second > first).to.equal(true);
      // Another writer holds the keys this process would hand out next, this second and the next.
      const counter = Buffer.from(second, 'hex').readUInt32BE(4);
      const now = Math.floor(Date.now() / 1000);
      const taken: Buffer[] = [];
      for (const seconds of [now, now + 1]) {
        for (let i = 1; i <= 3; i += 1) {
          const key = Buffer.alloc(8);
          key.writeUInt32BE(seconds, 0);
          key.writeUInt32BE((counter + i) % 2 ** 32, 4);
          taken.push(key);
        }
      }
      await db.knex('consent_subjects').insert(taken.map((chain, i) => ({ chain, pseudonym: Buffer.alloc(32, i + 1), head_mac: Buffer.alloc(0) })));
      await consent.record('third', { terms: 'granted' });
      await consent.record('fourth', { terms: 'granted' });
      const created = [await chainOf('third'), await chainOf('fourth')];
      for (const chain of created) expect(taken.map((k) => k.toString('hex'))).not.to.include(chain);
      expect(await consent.isAllowed('third', 'terms')).to.equal(true);
      expect(await consent.isAllowed('fourth', 'terms')).to.equal(true);
    } finally {
      await consent.close();
      await db.release();
    }
  });
});

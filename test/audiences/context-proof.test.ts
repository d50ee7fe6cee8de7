import { expect } from 'chai';
import type { Consent } from '../../lib/index';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';

for (const backend of BACKENDS) {
  backend.describe(`the chain covers an event's context (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db);
      consent = t.consent;
      await consent.record('ann', { analytics: 'granted' }, { context: 'signup form' });
      await consent.record('ann', { ads: 'granted' });
      await consent.erase('ann');
      await consent.record('bob', { analytics: 'granted' }, { context: 'banner v2' });
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('verifies as written, and erasure keeps the context (it names no one)', async () => {
      expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
      const kept: Array<{ context: string | null }> = await t.knex('consent_events').whereNotNull('context').select('context').orderBy('id');
      expect(kept.map((r) => r.context)).to.deep.equal(['signup form', 'banner v2']);
    });

    for (const [what, change] of [
      ['a changed context', { context: 'checkout' }],
      ['a removed context', { context: null }],
    ] as const) {
      it(`reports ${what} as modified`, async () => {
        const [row] = await t.knex('consent_events').where({ context: 'banner v2' }).select<Array<{ id: string | number }>>('id');
        await t.knex('consent_events').where({ id: row?.id }).update(change);
        const result = await consent.verify();
        expect(result.ok).to.equal(false);
        expect(result.problems.map((p) => p.kind)).to.include('modified');
      });
    }

    it('reports a context added to an event that had none as modified', async () => {
      await t.knex('consent_events').whereNull('context').andWhere({ action: 'grant', requirement: 'ads' }).update({ context: 'made up' });
      expect((await consent.verify()).problems.map((p) => p.kind)).to.include('modified');
    });
  });
}

import { expect } from 'chai';
import request from 'supertest';
import { ConsentError } from '../../lib/index';
import { REQUIREMENTS, routerApp, testConsent } from '../helpers/app';
import { AUDIENCE_BACKENDS, audienceFixture, DAY, START } from './fixture';



async function list(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const id of iterable) out.push(id);
  return out.sort();
}

for (const backend of AUDIENCE_BACKENDS) {
  backend.describe(`consent.audience() (${backend.name})`, () => {
    const f = audienceFixture(backend);

    it('lists the ids allowed now by default, and any state on request, as the host gave them', async () => {
      await f.consent.record('ann', { analytics: 'granted', fraud: 'denied' });
      await f.consent.record(42, { analytics: 'granted' });
      await f.consent.record('bob', { analytics: 'denied' });
      await f.consent.record('cy', { analytics: 'granted' });
      await f.consent.record('cy', { analytics: 'denied' });
      await f.consent.record('dee', { newsletter: 'granted' });
      expect(await list(f.consent.audience('analytics'))).to.deep.equal(['42', 'ann']);
      expect(await list(f.consent.audience('analytics', { allowed: false }))).to.deep.equal(['bob', 'cy', 'dee']);
      expect(await list(f.consent.audience('analytics', { state: 'denied' }))).to.deep.equal(['bob', 'cy']);
      expect(await list(f.consent.audience('analytics', { state: ['unset', 'granted'] }))).to.deep.equal(['42', 'ann', 'dee']);
      expect(await list(f.consent.audience('analytics', { state: 'granted', allowed: false }))).to.deep.equal([]);
      expect(await list(f.consent.audience('newsletter', { state: 'pending' }))).to.deep.equal(['dee']);
      // Legitimate interests stand until an objection; a contract always: subjects without a record count.
      expect(await list(f.consent.audience('fraud'))).to.deep.equal(['42', 'bob', 'cy', 'dee']);
      expect(await list(f.consent.audience('terms'))).to.deep.equal(['42', 'ann', 'bob', 'cy', 'dee']);
    });

    it('judges at read time: a grant that lapses while the listing runs stops counting from the next batch', async () => {
      for (let i = 0; i < 6; i += 1) await f.consent.record(`s${String(i)}`, { analytics: 'granted' });
      const seen: string[] = [];
      const audience = f.consent.audience('analytics', { batchSize: 2 });
      for await (const id of audience) {
        seen.push(id);
        // analytics expires after one day.
        f.clock = START + 2 * DAY;
      }
      expect(seen).to.have.length(2);
      expect(audience.summary).to.deep.equal({ listed: 2, skipped: 0, unreadable: 0, done: true });
      expect(await list(f.consent.audience('analytics', { state: 'expired' }))).to.have.length(6);
    });

    it('applies version bumps and the GPC signal as the guard does', async () => {
      await f.consent.import([{ subjectId: 'old', requirement: 'analytics', decision: 'granted', at: new Date(f.clock - 1000) }]);
      await f.consent.record('new', { analytics: 'granted', ads: 'granted' });
      const app = routerApp(f.consent);
      await request(app).put('/consent/me/ads').set('x-test-user', 'opted-in').set('Sec-GPC', '1').send({ decision: 'granted' }).expect(200);
      expect(await list(f.consent.audience('ads'))).to.deep.equal(['new', 'opted-in']);
      // With the signal only a grant given while sending it counts.
      expect(await list(f.consent.audience('ads', { gpc: true }))).to.deep.equal(['opted-in']);
      expect(await list(f.consent.audience('ads', { gpc: true, allowed: false }))).to.deep.equal(['new', 'old']);

      const bumped = REQUIREMENTS.map((r) => (r.id === 'analytics' ? { ...r, version: 2 } : r));
      const tracker = 'tracker' in backend ? { tracker: f.consent.engine.configuredTracker } : {};
      const next = await testConsent(f.db, { now: () => new Date(f.clock), ...tracker }, bumped);
      try {
        expect(await list(next.consent.audience('analytics'))).to.deep.equal([]);
        expect(await list(next.consent.audience('analytics', { state: 'outdated' }))).to.deep.equal(['new', 'old']);
      } finally {
        await next.close();
      }
    });

    it('never lists an erased subject, and lists it again only after a new decision', async () => {
      await f.consent.record('ann', { analytics: 'granted' });
      await f.consent.record('bob', { analytics: 'granted' });
      await f.consent.erase('ann');
      expect(await list(f.consent.audience('analytics'))).to.deep.equal(['bob']);
      expect(await list(f.consent.audience('analytics', { allowed: false }))).to.deep.equal([]);
      await f.consent.record('ann', { analytics: 'denied' });
      expect(await list(f.consent.audience('analytics', { state: 'denied' }))).to.deep.equal(['ann']);
    });

    it('checks its options at once and the requirement when iterated', async () => {
      for (const bad of [{ allowed: 'yes' }, { state: 'maybe' }, { state: [] }, { batchSize: 0 }, { batchSize: 10_001 }, { gpc: 1 }, { limit: 3 }, 'x']) {
        expect(() => f.consent.audience('analytics', bad as never), JSON.stringify(bad)).to.throw(ConsentError).with.property('code', 'invalid_argument');
      }
      const error = await list(f.consent.audience('nope')).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ConsentError).with.property('code', 'unknown_requirement');
    });
  });
}

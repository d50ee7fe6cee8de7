import { expect } from 'chai';
import request from 'supertest';
import { ConsentError, MemoryTracker, type Consent } from '../../lib/index';
import { BACKENDS, REQUIREMENTS, routerApp, testConsent, type TestDatabase } from '../helpers/app';

const DAY = 86_400_000;
const START = Date.parse('2031-03-01T10:00:00.000Z');

const memoryBackend = {
  name: 'memory',
  describe: (title: string, fn: () => void) => describe(title, fn),
  open: async (): Promise<TestDatabase> => ({ config: { client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }, cleanup: async () => undefined }),
  tracker: true,
};

async function list(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const id of iterable) out.push(id);
  return out.sort();
}

for (const backend of [...BACKENDS, memoryBackend]) {
  backend.describe(`consent.audience() (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;
    let clock: number;

    beforeEach(async () => {
      db = await backend.open();
      clock = START;
      const tracker = 'tracker' in backend ? { tracker: new MemoryTracker() } : {};
      t = await testConsent(db, { now: () => new Date(clock), ...tracker });
      consent = t.consent;
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('lists the ids allowed now by default, and any state on request, as the host gave them', async () => {
      await consent.record('ann', { analytics: 'granted', fraud: 'denied' });
      await consent.record(42, { analytics: 'granted' });
      await consent.record('bob', { analytics: 'denied' });
      await consent.record('cy', { analytics: 'granted' });
      await consent.record('cy', { analytics: 'denied' });
      await consent.record('dee', { newsletter: 'granted' });
      expect(await list(consent.audience('analytics'))).to.deep.equal(['42', 'ann']);
      expect(await list(consent.audience('analytics', { allowed: false }))).to.deep.equal(['bob', 'cy', 'dee']);
      expect(await list(consent.audience('analytics', { state: 'denied' }))).to.deep.equal(['bob', 'cy']);
      expect(await list(consent.audience('analytics', { state: ['unset', 'granted'] }))).to.deep.equal(['42', 'ann', 'dee']);
      expect(await list(consent.audience('analytics', { state: 'granted', allowed: false }))).to.deep.equal([]);
      expect(await list(consent.audience('newsletter', { state: 'pending' }))).to.deep.equal(['dee']);
      // Legitimate interests stand until an objection; a contract always: subjects without a record count.
      expect(await list(consent.audience('fraud'))).to.deep.equal(['42', 'bob', 'cy', 'dee']);
      expect(await list(consent.audience('terms'))).to.deep.equal(['42', 'ann', 'bob', 'cy', 'dee']);
    });

    it('judges at read time: a grant that lapses while the listing runs stops counting from the next batch', async () => {
      for (let i = 0; i < 6; i += 1) await consent.record(`s${String(i)}`, { analytics: 'granted' });
      const seen: string[] = [];
      const audience = consent.audience('analytics', { batchSize: 2 });
      for await (const id of audience) {
        seen.push(id);
        // analytics expires after one day.
        clock = START + 2 * DAY;
      }
      expect(seen).to.have.length(2);
      expect(audience.summary).to.deep.equal({ listed: 2, skipped: 0, unreadable: 0, done: true });
      expect(await list(consent.audience('analytics', { state: 'expired' }))).to.have.length(6);
    });

    it('applies version bumps and the GPC signal as the guard does', async () => {
      await consent.import([{ subjectId: 'old', requirement: 'analytics', decision: 'granted', at: new Date(clock - 1000) }]);
      await consent.record('new', { analytics: 'granted', ads: 'granted' });
      const app = routerApp(consent);
      await request(app).put('/consent/me/ads').set('x-test-user', 'opted-in').set('Sec-GPC', '1').send({ decision: 'granted' }).expect(200);
      expect(await list(consent.audience('ads'))).to.deep.equal(['new', 'opted-in']);
      // With the signal only a grant given while sending it counts.
      expect(await list(consent.audience('ads', { gpc: true }))).to.deep.equal(['opted-in']);
      expect(await list(consent.audience('ads', { gpc: true, allowed: false }))).to.deep.equal(['new', 'old']);

      const bumped = REQUIREMENTS.map((r) => (r.id === 'analytics' ? { ...r, version: 2 } : r));
      const tracker = 'tracker' in backend ? { tracker: consent.engine.configuredTracker } : {};
      const next = await testConsent(db, { now: () => new Date(clock), ...tracker }, bumped);
      try {
        expect(await list(next.consent.audience('analytics'))).to.deep.equal([]);
        expect(await list(next.consent.audience('analytics', { state: 'outdated' }))).to.deep.equal(['new', 'old']);
      } finally {
        await next.close();
      }
    });

    it('never lists an erased subject, and lists it again only after a new decision', async () => {
      await consent.record('ann', { analytics: 'granted' });
      await consent.record('bob', { analytics: 'granted' });
      await consent.erase('ann');
      expect(await list(consent.audience('analytics'))).to.deep.equal(['bob']);
      expect(await list(consent.audience('analytics', { allowed: false }))).to.deep.equal([]);
      await consent.record('ann', { analytics: 'denied' });
      expect(await list(consent.audience('analytics', { state: 'denied' }))).to.deep.equal(['ann']);
    });

    it('checks its options at once and the requirement when iterated', async () => {
      for (const bad of [{ allowed: 'yes' }, { state: 'maybe' }, { state: [] }, { batchSize: 0 }, { batchSize: 10_001 }, { gpc: 1 }, { limit: 3 }, 'x']) {
        expect(() => consent.audience('analytics', bad as never), JSON.stringify(bad)).to.throw(ConsentError).with.property('code', 'invalid_argument');
      }
      const error = await list(consent.audience('nope')).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ConsentError).with.property('code', 'unknown_requirement');
    });
  });
}

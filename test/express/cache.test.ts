import { expect } from 'chai';
import request from 'supertest';
import knexFactory, { type Knex } from 'knex';
import { BACKENDS, REQUIREMENTS, TEST_SECRET, headerSubject, memoryLogger, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { createConsent, type Consent, type ConsentOptions } from '../../lib/index';
import { guardApp } from '../helpers/guard-app';
import { CountingTracker } from '../helpers/trackers';

const DAY = 86_400_000;

for (const backend of BACKENDS) {
  backend.describe(`state cache on the guard path (${backend.name})`, () => {
    let db: TestDatabase;
    let knex: Knex;
    let tracker: CountingTracker;
    let consent: Consent;
    let clock: number;
    const extra: Array<() => Promise<void>> = [];

    async function start(options: ConsentOptions = {}) {
      // Without NOTIFY: these tests count the reads the cache itself saves, and a change made
      // elsewhere must stay unseen until ttlMs (test/knex/pg-notify.test.ts covers NOTIFY).
      tracker = new CountingTracker(knex, { notify: false });
      consent = createConsent({ tracker, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), now: () => new Date(clock), ...options });
      consent.register(REQUIREMENTS);
      await consent.ready();
      return guardApp(consent);
    }

    beforeEach(async () => {
      db = await backend.open();
      knex = knexFactory(db.config);
      clock = Date.parse('2031-03-01T10:00:00.000Z');
    });
    afterEach(async () => {
      for (const close of extra.splice(0)) await close();
      await consent.close();
      await knex.destroy();
      await db.cleanup();
    });

    const as = (user: string) => ({ 'x-test-user': user });

    it('serves repeated guard checks without a store read', async () => {
      const { app, calls } = await start();
      await consent.record('ann', { analytics: 'granted' });
      const before = tracker.reads;
      for (let i = 0; i < 5; i += 1) await request(app).get('/track').set(as('ann')).expect(200);
      expect(tracker.reads - before).to.equal(1);
      expect(calls.track).to.equal(5);
    });

    it("is invalidated at once by the instance's own writes", async () => {
      const { app } = await start();
      await consent.record('ann', { analytics: 'granted' });
      await request(app).get('/track').set(as('ann')).expect(200);
      const before = tracker.reads;
      await request(app).put('/consent/me/analytics').set(as('ann')).send({ decision: 'denied' }).expect(200);
      await request(app).get('/track').set(as('ann')).expect(403);
      expect(tracker.reads - before).to.equal(1);
    });

    it('holds at most cache.max subjects', async () => {
      const { app } = await start({ cache: { max: 2, ttlMs: 60_000 } });
      for (const user of ['a', 'b', 'c']) await request(app).get('/track').set(as(user)).expect(403);
      expect(tracker.reads).to.equal(3);
      await request(app).get('/track').set(as('c')).expect(403);
      expect(tracker.reads).to.equal(3);
      await request(app).get('/track').set(as('a')).expect(403);
      expect(tracker.reads).to.equal(4);
    });

    it("keeps a subject's entry however many other subjects this instance writes", async () => {
      const { app } = await start({ cache: { max: 4, ttlMs: 60_000 } });
      await consent.record('ann', { analytics: 'granted' });
      await request(app).get('/track').set(as('ann')).expect(200);
      const reads = tracker.reads;
      for (let i = 0; i < 12; i += 1) {
        await request(app).put('/consent/me/ads').set(as(`writer-${String(i)}`)).send({ decision: 'granted' }).expect(200);
      }
      await request(app).get('/track').set(as('ann')).expect(200);
      expect(tracker.reads, 'ann is still served from the cache').to.equal(reads);
    });

    it('never serves a state past ttlMs: a change made elsewhere shows once it elapses', async () => {
      const { app } = await start({ cache: { max: 100, ttlMs: 1000 } });
      await consent.record('ann', { analytics: 'granted' });
      await request(app).get('/track').set(as('ann')).expect(200);
      const other = await testConsent(db, { now: () => new Date(clock) });
      extra.push(other.close);
      await other.consent.record('ann', { analytics: 'denied' });
      clock += 999;
      await request(app).get('/track').set(as('ann')).expect(200);
      clock += 1;
      await request(app).get('/track').set(as('ann')).expect(403);
    });

    it('re-reads an entry in the last quarter of its lifetime in the background, so steady use never waits for a read', async () => {
      const { app } = await start({ cache: { max: 100, ttlMs: 1000 } });
      await consent.record('ann', { analytics: 'granted' });
      await request(app).get('/track').set(as('ann')).expect(200);
      const other = await testConsent(db, { now: () => new Date(clock) });
      extra.push(other.close);
      await other.consent.record('ann', { analytics: 'denied' });
      const reads = tracker.reads;
      clock += 749;
      await request(app).get('/track').set(as('ann')).expect(200);
      expect(tracker.reads).to.equal(reads, 'young entries are served as they are');
      clock += 1;
      // Still within its lifetime: served from the entry while the refresh reads the store.
      await request(app).get('/track').set(as('ann')).expect(200);
      for (let i = 0; i < 50 && (await request(app).get('/track').set(as('ann'))).status === 200; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await request(app).get('/track').set(as('ann')).expect(403);
      expect(tracker.reads).to.equal(reads + 1, 'one refresh, however many hits came while it ran');
      // The refreshed entry is young again: past the first entry's ttl, no read is needed.
      clock += 700;
      await request(app).get('/track').set(as('ann')).expect(403);
      expect(tracker.reads).to.equal(reads + 1);
    });

    it("never serves a grant past its expiresAt, even from a fresh entry", async () => {
      const { app } = await start({ cache: { max: 100, ttlMs: 30 * DAY } });
      await consent.record('ann', { analytics: 'granted' });
      await request(app).get('/track').set(as('ann')).expect(200);
      const reads = tracker.reads;
      clock += DAY - 1;
      await request(app).get('/track').set(as('ann')).expect(200);
      clock += 1;
      const res = await request(app).get('/track').set(as('ann')).expect(403);
      expect(res.body.missing[0].state).to.equal('expired');
      expect(tracker.reads).to.equal(reads);
    });

    it('reads the store every time with cache: false', async () => {
      const { app } = await start({ cache: false });
      for (let i = 0; i < 3; i += 1) await request(app).get('/track').set(as('ann')).expect(403);
      expect(tracker.reads).to.equal(3);
    });
  });
}

import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import type { Express } from 'express';
import type { Consent, ConsentEvent } from '../../lib/index';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { FailingWriteTracker } from '../helpers/faults';
import { cookiePair, visitorApp, visitorIdOf } from '../helpers/visitor-app';

const T0 = Date.UTC(2025, 5, 1, 12);
const MINUTE = 60_000;

for (const backend of BACKENDS) {
  backend.describe(`a link whose second write failed (${backend.name})`, () => {
    let db: TestDatabase;
    let knex: Knex;
    let tracker: FailingWriteTracker;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;
    let app: Express;
    let now = T0;

    const events = async (id: string): Promise<ConsentEvent[]> => (await consent.history(id, { limit: 200 })).events;
    const links = async (id: string) => (await events(id)).filter((e) => e.source === 'link');
    const expectVerified = async () => {
      expect((await consent.verify()).problems).to.deep.equal([]);
    };

    beforeEach(async () => {
      now = T0;
      db = await backend.open();
      knex = knexFactory(db.config);
      tracker = new FailingWriteTracker(knex);
      t = await testConsent(db, { tracker, visitors: {}, now: () => new Date(now) });
      consent = t.consent;
      app = visitorApp(consent);
    });
    afterEach(async () => {
      await t.close();
      await knex.destroy();
      await db.cleanup();
    });

    it('leaves both chains verifying, and the next link records the visitor side once', async () => {
      const cookie = cookiePair(await request(app).post('/consent/me').send({ decisions: { analytics: 'granted', ads: 'denied' } }).expect(200));
      const visitorId = visitorIdOf(cookie);
      const decided = Object.fromEntries((await events(visitorId)).map((e) => [e.requirement, e.id]));
      const expiresAt = { analytics: (await consent.states(visitorId)).analytics?.expiresAt };
      now += MINUTE;

      // The subject's write commits, the visitor's fails.
      tracker.failAfter(1);
      const error = await consent.linkVisitor(visitorId, 'ann').then(() => null, (e: unknown) => e);
      expect(error).to.include({ code: 'store_unavailable' });
      expect(tracker.failed).to.equal(1);
      const annLinks = await links('ann');
      expect(annLinks.map((e) => e.requirement)).to.deep.equal(['ads', 'analytics']);
      expect(annLinks[0]?.data).to.deep.equal({ link: { visitorEvents: decided, expiresAt } });
      expect(await links(visitorId), 'the visitor side is missing').to.deep.equal([]);
      await expectVerified();

      // Signing in again (the same cookie) completes it, naming the subject's events.
      now += MINUTE;
      const res = await request(app).post('/sign-in').set('x-sign-in', 'ann').set('Cookie', cookie).expect(200);
      expect(res.body).to.deep.equal({ visitorId, linked: ['analytics', 'ads'] });
      expect(await links('ann'), 'the subject side is not recorded again').to.deep.equal(annLinks);
      const marks = await links(visitorId);
      expect(marks.map((e) => [e.requirement, e.action, e.state])).to.deep.equal([['ads', 'deny', 'denied'], ['analytics', 'grant', 'granted']]);
      const subjectEvents = Object.fromEntries(annLinks.map((e) => [e.requirement, e.id]));
      expect(marks[0]?.data).to.deep.equal({ link: { subjectEvents, expiresAt } });
      expect((await consent.states(visitorId)).analytics?.state).to.equal('granted');
      await expectVerified();

      // Complete: a third call changes nothing.
      now += MINUTE;
      const counts = [(await events('ann')).length, (await events(visitorId)).length];
      expect(await consent.linkVisitor(visitorId, 'ann')).to.deep.equal({ visitorId, linked: [] });
      expect([(await events('ann')).length, (await events(visitorId)).length]).to.deep.equal(counts);
      // The marks keep the visitor's choices for anyone else who signs in on that browser.
      expect((await consent.linkVisitor(visitorId, 'bob')).linked).to.deep.equal(['analytics', 'ads']);
      await expectVerified();
    });

    it('does not mistake a later decision of the subject for an unfinished link', async () => {
      const cookie = cookiePair(await request(app).put('/consent/me/analytics').send({ decision: 'granted' }).expect(200));
      const visitorId = visitorIdOf(cookie);
      now += MINUTE;
      // The subject decided the same on their own, later: nothing to carry, nothing to complete.
      await consent.record('ann', { analytics: 'granted' });
      now += MINUTE;
      expect(await consent.linkVisitor(visitorId, 'ann')).to.deep.equal({ visitorId, linked: [] });
      expect(await links(visitorId)).to.deep.equal([]);
      expect(await links('ann')).to.deep.equal([]);
    });
  });
}

import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import knexFactory from 'knex';
import { KnexTracker, type Consent, type ConsentEvent } from '../../lib/index';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { intercept } from '../helpers/intercept';
import { cookiePair, visitorApp, visitorIdOf } from '../helpers/visitor-app';

const T0 = Date.UTC(2025, 5, 1, 12);
const MINUTE = 60_000;

for (const backend of BACKENDS) {
  backend.describe(`linking a visitor to a subject (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;
    let app: Express;
    let now = T0;

    const tick = () => { now += MINUTE; };
    /** A visitor who decided `decisions` through the router; returns their cookie. */
    const visitor = async (decisions: Record<string, string>) => {
      const res = await request(app).post('/consent/me').send({ decisions }).expect(200);
      tick();
      return cookiePair(res);
    };
    const signIn = (cookie: string | null, user: string) => {
      const req = request(app).post('/sign-in').set('x-sign-in', user);
      return (cookie === null ? req : req.set('Cookie', cookie)).expect(200);
    };
    const events = async (id: string): Promise<ConsentEvent[]> => (await consent.history(id, { limit: 200 })).events;
    const expectVerified = async (...ids: string[]) => {
      for (const subjectId of ids) expect(await consent.verify({ subjectId }), subjectId).to.include({ ok: true });
      expect((await consent.verify()).problems).to.deep.equal([]);
    };

    beforeEach(async () => {
      now = T0;
      db = await backend.open();
      t = await testConsent(db, { visitors: {}, now: () => new Date(now) });
      consent = t.consent;
      app = visitorApp(consent);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('carries every live decision to a subject without any, naming the events on both sides', async () => {
      const cookie = await visitor({ analytics: 'granted', ads: 'denied', fraud: 'denied' });
      const visitorId = visitorIdOf(cookie);
      const before = await events(visitorId);
      const res = await signIn(cookie, 'ann');
      expect(res.body).to.deep.equal({ visitorId, linked: ['analytics', 'ads', 'fraud'] });
      const states = await consent.states('ann');
      expect([states.analytics?.state, states.ads?.state, states.fraud?.state]).to.deep.equal(['granted', 'denied', 'denied']);
      expect(states.newsletter?.state).to.equal('unset');

      const annEvents = await events('ann');
      expect(annEvents.map((e) => [e.requirement, e.action, e.source])).to.deep.equal([
        ['fraud', 'deny', 'link'], ['ads', 'deny', 'link'], ['analytics', 'grant', 'link'],
      ]);
      const visitorEvents = Object.fromEntries(before.map((e) => [e.requirement, e.id]));
      // The grant keeps the expiry it was given with, named for a replay of the history.
      const expiresAt = { analytics: new Date(T0 + 86_400_000).toISOString() };
      expect(annEvents[0]?.data).to.deep.equal({ link: { visitorEvents, expiresAt } });

      const after = await events(visitorId);
      const marks = after.slice(0, 3);
      expect(marks.map((e) => [e.requirement, e.action, e.source, e.state])).to.deep.equal([
        ['fraud', 'deny', 'link', 'denied'], ['ads', 'deny', 'link', 'denied'], ['analytics', 'grant', 'link', 'granted'],
      ]);
      const subjectEvents = Object.fromEntries(annEvents.map((e) => [e.requirement, e.id]));
      expect(marks[0]?.data).to.deep.equal({ link: { subjectEvents, expiresAt } });
      await expectVerified('ann', visitorId);
    });

    it('replaces an older decision of the subject and keeps a newer one', async () => {
      await consent.record('ann', { analytics: 'denied' });
      tick();
      const cookie = await visitor({ analytics: 'granted', ads: 'granted' });
      await consent.record('ann', { ads: 'denied' });
      tick();
      const res = await signIn(cookie, 'ann');
      expect(res.body.linked).to.deep.equal(['analytics']);
      const states = await consent.states('ann');
      expect(states.analytics?.state, 'older: replaced').to.equal('granted');
      expect(states.ads?.state, 'newer: kept').to.equal('denied');
      expect((await events('ann')).filter((e) => e.source === 'link').map((e) => e.requirement)).to.deep.equal(['analytics']);
      await expectVerified('ann', visitorIdOf(cookie));
    });

    it('is a no-op the second time, and for a visitor without a cookie or a live decision', async () => {
      const cookie = await visitor({ analytics: 'granted', newsletter: 'granted' });
      expect((await signIn(cookie, 'ann')).body.linked, 'a double opt-in grant is not carried').to.deep.equal(['analytics']);
      const counts = [(await events('ann')).length, (await events(visitorIdOf(cookie))).length];
      tick();
      expect((await signIn(cookie, 'ann')).body).to.deep.equal({ visitorId: visitorIdOf(cookie), linked: [] });
      expect(await consent.linkVisitor(visitorIdOf(cookie), 'ann')).to.deep.equal({ visitorId: visitorIdOf(cookie), linked: [] });
      expect([(await events('ann')).length, (await events(visitorIdOf(cookie))).length]).to.deep.equal(counts);
      expect((await signIn(null, 'bob')).body).to.deep.equal({ visitorId: null, linked: [] });
      // An expired grant is no live decision.
      now += 2 * 86_400_000;
      expect((await signIn(cookie, 'carol')).body.linked).to.deep.equal([]);
      await expectVerified('ann', visitorIdOf(cookie));
    });

    it('keeps a carried grant\'s expiry as it was given, on both sides: linking is no new consent', async () => {
      const cookie = await visitor({ analytics: 'granted' });
      const given = (await consent.states(visitorIdOf(cookie))).analytics?.expiresAt;
      expect(given).to.equal(new Date(T0 + 86_400_000).toISOString());
      now = T0 + 20 * 3_600_000;
      expect((await signIn(cookie, 'ann')).body.linked).to.deep.equal(['analytics']);
      expect((await consent.states('ann')).analytics).to.include({ state: 'granted', expiresAt: given });
      expect((await consent.states(visitorIdOf(cookie))).analytics).to.include({ state: 'granted', expiresAt: given });
      // A day after the visitor's grant, past the link's moment by far less than a day.
      now = T0 + 25 * 3_600_000;
      expect((await consent.states('ann')).analytics?.state).to.equal('expired');
      expect((await consent.states(visitorIdOf(cookie))).analytics?.state).to.equal('expired');
      // The history says so too, once newer decisions replaced the records that hold the expiry.
      now = T0 + 30 * 3_600_000;
      await consent.record('ann', { analytics: 'denied' });
      await consent.record(visitorIdOf(cookie), { analytics: 'denied' });
      for (const subject of ['ann', visitorIdOf(cookie)]) {
        expect((await consent.stateAt(subject, 'analytics', T0 + 25 * 3_600_000)).state, subject).to.equal('expired');
        expect((await consent.stateAt(subject, 'analytics', T0 + 23 * 3_600_000)).state, subject).to.equal('granted');
      }
      await expectVerified('ann', visitorIdOf(cookie));
    });

    it('records the locale of the text the visitor decided on, so the subject\'s receipt cites it', async () => {
      const terms = {
        id: 'terms',
        texts: { en: { title: 'Terms', description: 'The terms.' }, de: { title: 'Bedingungen', description: 'Die Bedingungen.' } },
      };
      const own = await testConsent(db, { visitors: {}, now: () => new Date(now), tablePrefix: 'lc_' }, [terms]);
      try {
        const visitorId = 'visitor:AAAAAAAAAAAAAAAAAAAAAA';
        await own.consent.record(visitorId, { terms: { decision: 'granted', locale: 'de' } });
        tick();
        expect((await own.consent.linkVisitor(visitorId, 'ann')).linked).to.deep.equal(['terms']);
        for (const id of ['ann', visitorId]) {
          const [latest] = (await own.consent.history(id)).events;
          expect([latest?.source, latest?.locale], id).to.deep.equal(['link', 'de']);
        }
        const receipt = await own.consent.receipt('ann');
        expect(receipt.decisions.map((d) => [d.requirement, d.locale])).to.deep.equal([['terms', 'de']]);
      } finally {
        await own.close();
      }
    });

    it('marks nothing on a visitor erased while it was linked: no new chain, nothing granted', async () => {
      const visitorId = 'visitor:BBBBBBBBBBBBBBBBBBBBBB';
      await consent.record(visitorId, { analytics: 'granted' });
      tick();
      // The visitor is erased between the account's write and the visitor's.
      const visitorKey = consent.engine.pseudonym(visitorId);
      const erasing = knexFactory(db.config);
      const inner = new KnexTracker(erasing);
      let eraseFirst = true;
      const tracker = intercept(inner, {
        write: (method) => async (...args: unknown[]) => {
          if (eraseFirst && args[0] === visitorKey) { eraseFirst = false; await consent.erase(visitorId); }
          return method(...args);
        },
      });
      const other = await testConsent(db, { visitors: {}, now: () => new Date(now), tracker, cache: false });
      try {
        expect((await other.consent.linkVisitor(visitorId, 'ann')).linked).to.deep.equal(['analytics']);
        expect(eraseFirst, 'the erasure ran').to.equal(false);
        expect((await other.consent.states(visitorId)).analytics?.state).to.equal('unset');
        expect((await other.consent.history(visitorId)).events).to.deep.equal([]);
        expect((await other.consent.states('ann')).analytics?.state, 'carried while the visitor held it').to.equal('granted');
        await expectVerified('ann');
      } finally {
        await other.close();
        await erasing.destroy();
      }
    });

    it('leaves the browser that visitor after sign-out: the account\'s choices never reach it', async () => {
      const cookie = await visitor({ analytics: 'granted' });
      await signIn(cookie, 'ann');
      tick();
      await request(app).put('/consent/me/ads').set('x-test-user', 'ann').set('Cookie', cookie).send({ decision: 'granted' }).expect(200);
      await request(app).delete('/consent/me/analytics').set('x-test-user', 'ann').set('Cookie', cookie).expect(200);
      // Signed out: the same cookie, no user.
      const me = await request(app).get('/consent/me').set('Cookie', cookie).expect(200);
      expect(me.body.states.analytics.state).to.equal('granted');
      expect(me.body.states.ads.state).to.equal('unset');
      await request(app).get('/track').set('Cookie', cookie).expect(200);
      // The next person's choice on this browser is the visitor's, and a later link carries it.
      tick();
      await request(app).put('/consent/me/analytics').set('Cookie', cookie).send({ decision: 'denied' }).expect(200);
      expect((await consent.states('ann')).analytics?.state).to.equal('denied');
      tick();
      expect((await signIn(cookie, 'bob')).body.linked).to.deep.equal(['analytics']);
      expect((await consent.states('bob')).analytics?.state).to.equal('denied');
      await expectVerified('ann', 'bob', visitorIdOf(cookie));
    });

    it('checks its arguments', async () => {
      const cookie = await visitor({ analytics: 'granted' });
      const visitorId = visitorIdOf(cookie);
      for (const bad of ['ann', 'visitor:short', '', 42]) {
        const error = await consent.linkVisitor(bad as string, 'ann').catch((e: unknown) => e);
        expect(error, String(bad)).to.include({ code: 'invalid_argument' });
      }
      for (const bad of [visitorId, '', null, 'a\uD800']) {
        const error = await consent.linkVisitor(visitorId, bad as string).catch((e: unknown) => e);
        expect(error, String(bad)).to.include({ code: 'invalid_subject' });
      }
      const error = await consent.link({ headers: {} } as never, '').catch((e: unknown) => e);
      expect(error).to.include({ code: 'invalid_subject' });
    });
  });
}

import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { BACKENDS, REQUIREMENTS, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { guardApp } from '../helpers/guard-app';
import { expectProblem } from '../helpers/problem';

const DAY = 86_400_000;

for (const backend of BACKENDS) {
  backend.describe(`requireConsent (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let app: Express;
    let calls: Record<string, number>;
    let clock: number;
    const closers: Array<() => Promise<void>> = [];

    beforeEach(async () => {
      db = await backend.open();
      clock = Date.parse('2031-03-01T10:00:00.000Z');
      t = await testConsent(db, { now: () => new Date(clock) });
      ({ app, calls } = guardApp(t.consent));
    });
    afterEach(async () => {
      for (const close of closers.splice(0)) await close();
      await t.close();
      await db.cleanup();
    });

    const as = (user: string) => ({ 'x-test-user': user });
    const decide = (user: string, id: string, decision: string, headers: Record<string, string> = {}) =>
      request(app).put(`/consent/me/${id}`).set(as(user)).set(headers).send({ decision });
    const missingOf = (body: Record<string, unknown>) => body.missing as Array<Record<string, unknown>>;

    it('calls the handler when the requirement is allowed', async () => {
      await decide('ann', 'analytics', 'granted').expect(200);
      const res = await request(app).get('/track').set(as('ann')).expect(200);
      expect(res.body).to.deep.equal({ ok: 'track' });
      expect(calls.track).to.equal(1);
    });

    it('answers 403 consent_required for unset, denied and pending, listing what is missing', async () => {
      const unset = expectProblem(await request(app).get('/track?x=1').set(as('ann')), 403, 'consent_required', '/track?x=1');
      expect(missingOf(unset)).to.deep.equal([{ id: 'analytics', state: 'unset', reason: 'unset', title: 'Usage analytics', url: '/privacy#analytics' }]);
      await decide('ann', 'analytics', 'denied').expect(200);
      expect(missingOf(expectProblem(await request(app).get('/track').set(as('ann')), 403, 'consent_required'))[0]).to.include({ state: 'denied', reason: 'denied' });
      await decide('ann', 'newsletter', 'granted').expect(202);
      const pending = expectProblem(await request(app).get('/news').set(as('ann')), 403, 'consent_required');
      expect(missingOf(pending)[0]).to.include({ id: 'newsletter', state: 'pending', reason: 'pending' });
      expect(calls).to.deep.equal({});
    });

    it('refuses an expired grant (now >= expiresAt)', async () => {
      await decide('ann', 'analytics', 'granted').expect(200);
      await request(app).get('/track').set(as('ann')).expect(200);
      clock += DAY;
      const body = expectProblem(await request(app).get('/track').set(as('ann')), 403, 'consent_required');
      expect(missingOf(body)[0]).to.include({ state: 'expired', reason: 'expired' });
      expect(calls.track).to.equal(1);
    });

    it('refuses a grant of an older version (a second instance registered a bumped version)', async () => {
      await decide('ann', 'analytics', 'granted').expect(200);
      const bumped = REQUIREMENTS.map((r) => (r.id === 'analytics' ? { ...r, version: 2, description: 'We record pages and clicks.' } : r));
      const second = await testConsent(db, { now: () => new Date(clock) }, bumped);
      closers.push(second.close);
      const { app: app2, calls: calls2 } = guardApp(second.consent);
      const body = expectProblem(await request(app2).get('/track').set(as('ann')), 403, 'consent_required');
      expect(missingOf(body)[0]).to.include({ id: 'analytics', state: 'outdated', reason: 'outdated' });
      expect(calls2.track).to.equal(undefined);
    });

    it('checks several ids at once and lists every missing one in order', async () => {
      const none = expectProblem(await request(app).get('/both').set(as('bo')), 403, 'consent_required');
      expect(missingOf(none).map((m) => m.id)).to.deep.equal(['analytics', 'ads']);
      await decide('bo', 'analytics', 'granted').expect(200);
      const one = expectProblem(await request(app).get('/both').set(as('bo')), 403, 'consent_required');
      expect(missingOf(one).map((m) => m.id)).to.deep.equal(['ads']);
      await decide('bo', 'ads', 'granted').expect(200);
      await request(app).get('/both').set(as('bo')).expect(200);
      expect(calls.both).to.equal(1);
    });

    it('enforces a withdrawal on the very next request', async () => {
      await decide('cy', 'analytics', 'granted').expect(200);
      await request(app).get('/track').set(as('cy')).expect(200);
      await request(app).delete('/consent/me/analytics').set(as('cy')).expect(200);
      expectProblem(await request(app).get('/track').set(as('cy')), 403, 'consent_required');
      await t.consent.record('cy', { analytics: 'granted' });
      await request(app).get('/track').set(as('cy')).expect(200);
      await t.consent.record('cy', { analytics: 'denied' });
      expectProblem(await request(app).get('/track').set(as('cy')), 403, 'consent_required');
      expect(calls.track).to.equal(2);
    });

    it('redirects HTML clients with 303 and next=, JSON clients still get 403', async () => {
      const html = await request(app).get('/page?a=1&b=x y').set(as('di')).set('Accept', 'text/html,application/xhtml+xml').expect(303);
      expect(html.headers.location).to.equal(`/ask?next=${encodeURIComponent('/page?a=1&b=x%20y')}`);
      expect(html.headers.vary).to.match(/Accept/);
      const amp = await request(app).get('/page2').set(as('di')).set('Accept', 'text/html').expect(303);
      expect(amp.headers.location).to.equal('/ask?from=page2&next=%2Fpage2');
      // `next` goes in the query, before a fragment (which the browser never sends).
      expect((await request(app).get('/page3').set(as('di')).set('Accept', 'text/html').expect(303)).headers.location).to.equal('/ask?next=%2Fpage3#choices');
      expect((await request(app).get('/page4').set(as('di')).set('Accept', 'text/html').expect(303)).headers.location).to.equal('/ask?from=page4&next=%2Fpage4#choices');
      expectProblem(await request(app).get('/page').set(as('di')).set('Accept', 'application/json'), 403, 'consent_required');
      expectProblem(await request(app).get('/track').set(as('di')).set('Accept', 'text/html'), 403, 'consent_required');
      expect(calls.page).to.equal(undefined);
    });

    it('answers 401 without a subject and 500 for a broken hook, never calling the handler', async () => {
      expectProblem(await request(app).get('/track'), 401, 'no_subject', '/track');
      expectProblem(await request(app).get('/track').set(as('throw')), 500, 'internal_error');
      expect(calls.track).to.equal(undefined);
    });

    it('honours and records Sec-GPC: 1 for gpc requirements, unless granted while sending it', async () => {
      await request(app).get('/fraud').set(as('ed')).expect(200);
      // The signal is recorded before the answer: a refusal (source gpc), so the state is denied.
      const fraud = expectProblem(await request(app).get('/fraud').set(as('ed')).set('Sec-GPC', '1'), 403, 'consent_required');
      expect(missingOf(fraud)).to.deep.equal([{ id: 'fraud', state: 'denied', reason: 'denied', title: 'Fraud checks', url: null }]);
      await decide('ed', 'ads', 'granted').expect(200);
      await request(app).get('/ads').set(as('ed')).expect(200);
      const ads = expectProblem(await request(app).get('/ads').set(as('ed')).set('Sec-GPC', '1'), 403, 'consent_required');
      expect(missingOf(ads)[0]).to.include({ state: 'denied', reason: 'denied' });
      const optIn = await decide('ed', 'ads', 'granted', { 'Sec-GPC': '1' }).expect(200);
      expect(optIn.body.allowed).to.equal(true);
      await request(app).get('/ads').set(as('ed')).set('Sec-GPC', '1').expect(200);
      expect(calls).to.deep.equal({ fraud: 1, ads: 2 });
    });

    it('fails closed with 503 when the database is gone', async () => {
      await t.knex.destroy();
      const res = await request(app).get('/track').set(as('fresh'));
      expectProblem(res, 503, 'store_unavailable', '/track');
      expect(calls.track).to.equal(undefined);
    });
  });
}

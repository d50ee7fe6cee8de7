import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import { ConsentError, type Consent } from '../../lib/index';
import { BACKENDS, expressModule, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

const DAY = 86_400_000;
const START = Date.parse('2031-03-01T10:00:00.000Z');

for (const backend of BACKENDS) {
  backend.describe(`consent.requireAnswers() (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;
    let host: Express;
    let clock: number;

    beforeEach(async () => {
      db = await backend.open();
      clock = START;
      t = await testConsent(db, { now: () => new Date(clock) });
      consent = t.consent;
      host = expressModule()();
      host.use('/consent', consent.router());
      const ok = (_req: unknown, res: { json(body: unknown): void }) => { res.json({ ok: true }); };
      host.get('/app', consent.requireAnswers(), ok);
      host.get('/mail', consent.requireAnswers({ only: ['newsletter', 'analytics'], redirect: '/preferences?tab=mail' }), ok);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('passes only once nothing is left to answer, and lists what is pending otherwise', async () => {
      // The consent requirements: analytics, newsletter, ads. fraud and terms are never pending.
      let body = expectProblem(await request(host).get('/app').set('x-test-user', 'ann'), 403, 'consent_required', '/app');
      expect((body.missing as Array<{ id: string; state: string; reason: string }>).map((m) => `${m.id}:${m.state}:${m.reason}`))
        .to.deep.equal(['analytics:unset:unset', 'newsletter:unset:unset', 'ads:unset:unset']);
      // A denial is an answer; a double opt-in awaiting confirmation is not a question.
      await consent.record('ann', { analytics: 'granted', newsletter: 'granted', ads: 'denied' });
      await request(host).get('/app').set('x-test-user', 'ann').expect(200, { ok: true });
      // An expired grant asks again (the confirmation link, valid two days, is still open).
      clock += DAY + 1000;
      body = expectProblem(await request(host).get('/app').set('x-test-user', 'ann'), 403, 'consent_required');
      expect(body.missing).to.deep.equal([{ id: 'analytics', state: 'expired', reason: 'expired', title: 'Usage analytics', url: '/privacy#analytics' }]);
    });

    it('with only: looks at the listed requirements alone, and redirects HTML clients', async () => {
      await consent.record('bob', { newsletter: 'denied' });
      const res = await request(host).get('/mail?x=1').set('x-test-user', 'bob').set('Accept', 'text/html');
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal(`/preferences?tab=mail&next=${encodeURIComponent('/mail?x=1')}`);
      const body = expectProblem(await request(host).get('/mail').set('x-test-user', 'bob'), 403, 'consent_required');
      expect((body.missing as Array<{ id: string }>).map((m) => m.id)).to.deep.equal(['analytics']);
      await consent.record('bob', { analytics: 'denied' });
      // ads is still unanswered, but not among `only`.
      await request(host).get('/mail').set('x-test-user', 'bob').expect(200);
      expectProblem(await request(host).get('/app').set('x-test-user', 'bob'), 403, 'consent_required');
    });

    it('answers like the guard without a subject, and checks its options', () => {
      expect(() => consent.requireAnswers({ only: [] })).to.throw(ConsentError).with.property('code', 'invalid_argument');
      expect(() => consent.requireAnswers({ only: 'ads' } as never)).to.throw(ConsentError).with.property('code', 'invalid_argument');
      expect(() => consent.requireAnswers({ redirect: '' })).to.throw(ConsentError).with.property('code', 'invalid_argument');
      expect(() => consent.requireAnswers({ when: 1 } as never)).to.throw(ConsentError).with.property('code', 'invalid_argument');
      expect(() => consent.requireAnswers({ only: ['nope'] })).to.throw(ConsentError).with.property('code', 'unknown_requirement');
      return request(host).get('/app').expect(401);
    });
  });
}

import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import { verifyReceipt, type Consent } from '../../lib/index';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

for (const backend of BACKENDS) {
  backend.describe(`router proof routes (${backend.name})`, () => {
    let db: TestDatabase;
    let close: () => Promise<void>;
    let consent: Consent;
    let app: Express;

    beforeEach(async () => {
      db = await backend.open();
      const t = await testConsent(db);
      close = t.close;
      consent = t.consent;
      app = routerApp(consent);
    });
    afterEach(async () => {
      await close();
      await db.cleanup();
    });

    const as = (user: string) => ({ 'x-test-user': user });

    it('GET /receipts/key needs no subject and publishes the key receipts verify with', async () => {
      const key = await request(app).get('/consent/receipts/key').expect(200);
      expect(key.body).to.deep.equal({ alg: 'Ed25519', publicKey: consent.publicKey });
      expect(key.body.publicKey).to.match(/^-----BEGIN PUBLIC KEY-----/);
      await request(app).put('/consent/me/analytics').set(as('alice')).send({ decision: 'granted' }).expect(200);
      const receipt = await request(app).get('/consent/me/receipt').set(as('alice')).expect(200);
      expect(receipt.headers['cache-control']).to.equal('no-store');
      // A file to keep when a person follows the link; still JSON for programs.
      expect(receipt.headers['content-disposition']).to.equal('attachment; filename="consent-receipt.json"');
      expect(receipt.headers['content-type']).to.match(/^application\/json/);
      expect(receipt.body.subject).to.equal(consent.engine.pseudonym('alice'));
      expect(receipt.body.decisions.map((d: { requirement: string; state: string }) => [d.requirement, d.state])).to.deep.equal([['analytics', 'granted']]);
      expect(verifyReceipt(receipt.body, key.body.publicKey)).to.equal(true);
      expect(verifyReceipt({ ...receipt.body, subject: 'someone else' }, key.body.publicKey)).to.equal(false);
    });

    it('GET /me/export returns only the requesting subject\'s data', async () => {
      await request(app).put('/consent/me/analytics').set(as('alice')).send({ decision: 'granted', note: 'from settings' }).expect(200);
      await request(app).put('/consent/me/ads').set(as('bob')).send({ decision: 'denied' }).expect(200);
      const res = await request(app).get('/consent/me/export').set(as('alice')).expect(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.headers['content-disposition']).to.equal('attachment; filename="consent-export.json"');
      expect(res.body.subject).to.equal(consent.engine.pseudonym('alice'));
      expect(res.body.events.map((e: { requirement: string; note: string }) => [e.requirement, e.note])).to.deep.equal([['analytics', 'from settings']]);
      expect(res.body.states.analytics.state).to.equal('granted');
      expect(res.body.states.ads.state).to.equal('unset');
    });

    it('answers 401 no_subject on /me/receipt and /me/export without a subject, and ignores query subjects', async () => {
      expectProblem(await request(app).get('/consent/me/receipt'), 401, 'no_subject');
      expectProblem(await request(app).get('/consent/me/export?subjectId=alice'), 401, 'no_subject');
      expectProblem(await request(app).get('/consent/me/receipt').set(as('throw')), 500, 'internal_error');
    });
  });
}

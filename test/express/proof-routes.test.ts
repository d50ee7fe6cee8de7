import { expect } from 'chai';
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { generateKeyPairSync } from 'node:crypto';
import { createConsent, ConsentError, MemoryTracker, verifyReceipt, type Consent } from '../../lib/index';
import { proofHandlers } from '../../lib/express/proof-routes';

const SECRET = 'routes-test-secret-0123456789abcdef012345';

/** A tiny app mounting the proof handlers the way the router will. */
function appFor(consent: Consent) {
  const proof = proofHandlers(consent, {
    async subject(req) {
      const user = req.get('x-user');
      if (!user) throw new ConsentError('no_subject', 'no subject');
      return user;
    },
  });
  const app = express();
  app.get('/me/receipt', proof.receipt);
  app.get('/me/export', proof.exportMe);
  app.get('/receipts/key', proof.receiptKey);
  app.delete('/admin/subjects/:subjectId', proof.adminErase);
  app.get('/admin/verify', proof.adminVerify);
  app.use((error: ConsentError, _req: Request, res: Response, _next: NextFunction) => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- whatever a handler throws reaches here
    res.status(error.status ?? 500).json({ code: error.code ?? 'internal_error', errors: error.extensions?.errors });
  });
  return app;
}

describe('proof route handlers', () => {
  let consent: Consent;
  const { privateKey } = generateKeyPairSync('ed25519');

  beforeEach(async () => {
    consent = createConsent({ tracker: new MemoryTracker(), secret: SECRET, receipts: { privateKey, controller: 'ACME' } });
    consent.register({ id: 'news', title: 'News', description: 'A letter.' });
    await consent.ready();
    await consent.record('ann', { news: 'granted' }, { note: 'at the fair' });
  });

  it('GET /receipts/key and GET /me/receipt: a receipt that verifies with the published key', async () => {
    const app = appFor(consent);
    const key = await request(app).get('/receipts/key').expect(200);
    expect(key.body).to.deep.equal({ alg: 'Ed25519', publicKey: consent.publicKey });
    const res = await request(app).get('/me/receipt').set('x-user', 'ann').expect(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body.decisions.map((d: { requirement: string; state: string }) => [d.requirement, d.state])).to.deep.equal([['news', 'granted']]);
    expect(verifyReceipt(res.body, key.body.publicKey)).to.equal(true);
    await request(app).get('/me/receipt').expect(401, { code: 'no_subject' });
  });

  it('GET /me/export: the subject\'s document, not anyone else\'s', async () => {
    const app = appFor(consent);
    const res = await request(app).get('/me/export').set('x-user', 'ann').expect(200);
    expect(res.body.events.map((e: { note: string }) => e.note)).to.deep.equal(['at the fair']);
    const other = await request(app).get('/me/export').set('x-user', 'bob').expect(200);
    expect(other.body.events).to.deep.equal([]);
  });

  it('DELETE /admin/subjects/:subjectId erases, and GET /admin/verify checks all or one subject', async () => {
    const app = appFor(consent);
    await request(app).delete('/admin/subjects/ann').expect(200, { events: 1 });
    expect((await consent.states('ann')).news?.state).to.equal('unset');
    const erase = (await consent.engine.tracker.scanEvents({ limit: 10 })).find((e) => e.action === 'erase');
    expect(erase?.source).to.equal('admin');
    await request(app).get('/admin/verify').expect(200, { ok: true, checked: 2, problems: [] });
    await request(app).get('/admin/verify?subjectId=bob').expect(200, { ok: true, checked: 0, problems: [] });
    const bad = await request(app).get('/admin/verify?subjectId=a&subjectId=b').expect(400);
    expect(bad.body).to.deep.equal({ code: 'invalid_body', errors: [{ pointer: '/subjectId', detail: 'must be a string of 1–256 characters' }] });
  });
});

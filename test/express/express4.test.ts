import { expect } from 'chai';
import request from 'supertest';
import { BACKENDS, express4, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { guardApp } from '../helpers/guard-app';
import { expectProblem } from '../helpers/problem';
import { signupApp } from '../helpers/signup-app';

for (const backend of BACKENDS) {
  backend.describe(`apps built with Express 4 (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    const as = { 'x-test-user': 'four' };

    it('is really Express 4', () => {
      expect((express4() as unknown as { application: { del?: unknown } }).application.del).to.be.a('function');
    });

    it('serves every route', async () => {
      const app = routerApp(t.consent, express4());
      await request(app).get('/consent/requirements').expect(200);
      await request(app).put('/consent/me/analytics').set(as).send({ decision: 'granted' }).expect(200);
      await request(app).put('/consent/me/newsletter').set(as).send({ decision: 'granted' }).expect(202);
      const batch = await request(app).post('/consent/me').set(as).send({ decisions: { ads: 'denied' } }).expect(200);
      expect(batch.body.pending).to.deep.equal([]);
      await request(app).delete('/consent/me/analytics').set(as).expect(200);
      const me = await request(app).get('/consent/me').set(as).expect(200);
      expect(me.body.states.analytics.state).to.equal('denied');
      const history = await request(app).get('/consent/me/history?limit=1').set(as).expect(200);
      expect(history.body.nextCursor).to.be.a('string');
      await request(app).get('/consent/openapi.json').expect(200);
    });

    it('answers every failure as a problem', async () => {
      const app = routerApp(t.consent, express4());
      expectProblem(await request(app).put('/consent/me/analytics').type('form').send('a=1'), 415, 'unsupported_media_type');
      expectProblem(await request(app).put('/consent/me/analytics').type('json').send(`"${'x'.repeat(17000)}"`), 413, 'payload_too_large');
      expectProblem(await request(app).put('/consent/me/analytics').type('json').send('{'), 400, 'invalid_body');
      expectProblem(await request(app).get('/consent/me'), 401, 'no_subject');
      expectProblem(await request(app).put('/consent/me/nope').set(as).send({ decision: 'granted' }), 404, 'unknown_requirement');
      expectProblem(await request(app).put('/consent/me/analytics').set(as).send({ decision: 'granted', version: 3 }), 409, 'version_mismatch');
      expectProblem(await request(app).get('/consent/me/history?limit=x').set(as), 400, 'invalid_body');
      await t.knex.destroy();
      expectProblem(await request(app).get('/consent/me').set(as), 503, 'store_unavailable');
    });

    it('guards host routes, redirects HTML clients and fails closed', async () => {
      const { app, calls } = guardApp(t.consent, express4());
      expectProblem(await request(app).get('/track').set(as), 403, 'consent_required');
      const redirect = await request(app).get('/page?q=1').set(as).set('Accept', 'text/html').expect(303);
      expect(redirect.headers.location).to.equal('/ask?next=%2Fpage%3Fq%3D1');
      await request(app).put('/consent/me/analytics').set(as).send({ decision: 'granted' }).expect(200);
      await request(app).get('/track').set(as).expect(200);
      await t.knex.destroy();
      expectProblem(await request(app).get('/track').set({ 'x-test-user': 'other' }), 503, 'store_unavailable');
      expect(calls.track).to.equal(1);
    });

    it('collects extended urlencoded forms', async () => {
      const app = signupApp(t.consent, express4());
      const res = await request(app).post('/signup').type('form').send('consent[terms]=on&consent[ads]=granted').expect(201);
      expect(res.body.decisions).to.deep.equal({ terms: 'granted', analytics: 'denied', ads: 'granted' });
      expectProblem(await request(app).post('/signup').type('form').send('consent[analytics]=on'), 422, 'mandatory_missing');
    });
  });
}

import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { CollectedConsent } from '../../lib/index';
import { BACKENDS, expressModule, testConsent, type TestDatabase } from '../helpers/app';
import { signupApp } from '../helpers/signup-app';
import { expectProblem } from '../helpers/problem';

for (const backend of BACKENDS) {
  backend.describe(`collect() (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let app: Express;

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db);
      app = signupApp(t.consent);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('reads nested consent[...] fields and commits them with source form', async () => {
      const res = await request(app).post('/signup').type('form').send('consent[terms]=on&consent[analytics]=1&name=x').expect(201);
      expect(res.body.decisions).to.deep.equal({ terms: 'granted', analytics: 'granted', ads: 'denied' });
      expect(res.body.result.states.analytics.state).to.equal('granted');
      expect(res.body.result.states.ads.state).to.equal('denied');
      expect(Object.keys(res.body.result)).to.deep.equal(['states', 'pending']);
    });

    it('records events with source form and the note given to commit()', async () => {
      const consent = t.consent;
      const lib = expressModule();
      const one = lib();
      one.post('/s', lib.urlencoded({ extended: true }), consent.collect(['terms', 'analytics']), async (_req, res) => {
        await (res.locals.consent as CollectedConsent).commit('fixed-user', { note: 'sign-up form' });
        res.sendStatus(204);
      });
      await request(one).post('/s').type('form').send('consent[terms]=granted&consent[analytics]=true').expect(204);
      const history = await consent.history('fixed-user');
      const rows = history.events.map((e) => `${e.requirement}:${e.action}:${e.source}:${String(e.note)}`).sort();
      expect(rows).to.deep.equal(['analytics:grant:form:sign-up form', 'terms:grant:form:sign-up form']);
    });

    it('reads flat consent[...] keys, JSON bodies, and takes the last of repeated values', async () => {
      const flat = await request(app).post('/flat').type('form').send('consent[terms]=true&consent[analytics]=0').expect(201);
      expect(flat.body.decisions).to.deep.equal({ terms: 'granted', analytics: 'denied' });
      const json = await request(app).post('/json').send({ consent: { terms: 'granted', analytics: true } }).expect(201);
      expect(json.body.decisions).to.deep.equal({ terms: 'granted', analytics: 'granted' });
      const repeated = await request(app).post('/signup').type('form').send('consent[terms]=0&consent[terms]=on').expect(201);
      expect(repeated.body.decisions.terms).to.equal('granted');
    });

    it('answers 422 mandatory_missing and records nothing when a mandatory id is not granted', async () => {
      for (const body of ['consent[analytics]=on', 'consent[terms]=yes', 'consent[terms]=0&consent[terms]=1&consent[terms]=off', '']) {
        const res = await request(app).post('/signup').type('form').send(body);
        const problem = expectProblem(res, 422, 'mandatory_missing', '/signup');
        expect(problem.missing).to.deep.equal([{ id: 'terms', title: 'Terms of service', url: null }]);
      }
      const rows = await t.knex.select('id').from('consent_events');
      expect(rows).to.deep.equal([]);
    });

    it('answers 415 and records nothing for a form no body parser read, rather than read every box as unchecked', async () => {
      const lib = expressModule();
      const consent = t.consent;
      const host = lib();
      let committed = false;
      const commit = async (_req: unknown, res: { locals: Record<string, unknown>; sendStatus(status: number): void }) => {
        await (res.locals.consent as CollectedConsent).commit('no-parser');
        committed = true;
        res.sendStatus(204);
      };
      // The host forgot the parser, or mounted one for another type (a multipart form behind express.urlencoded()).
      host.post('/none', consent.collect(['analytics']), commit);
      host.post('/other-type', lib.urlencoded({ extended: false }), consent.collect(['analytics']), commit);
      const none = await request(host).post('/none').type('form').send('consent[analytics]=on');
      expectProblem(none, 415, 'unsupported_media_type', '/none');
      const multipart = await request(host).post('/other-type').field('consent[analytics]', 'on');
      expectProblem(multipart, 415, 'unsupported_media_type', '/other-type');
      expect(multipart.body.detail).to.equal('this route reads no body of this type: nothing was recorded');
      expect(committed).to.equal(false);
      expect((await consent.history('no-parser')).events).to.deep.equal([]);
      // An empty form (every box unchecked, nothing else) carries no body: read as it is.
      await request(host).post('/other-type').type('form').send('').expect(204);
      expect((await consent.states('no-parser')).analytics?.state).to.equal('denied');
    });

    it("answers 415 and records nothing for a form a host's raw or text parser kept unread, rather than read every box as unchecked", async () => {
      const lib = expressModule();
      const consent = t.consent;
      await consent.record('kept-raw', { analytics: 'granted' });
      for (const kept of [lib.raw({ type: '*/*' }), lib.text({ type: '*/*' })]) {
        const host = lib();
        // A global raw parser (webhook signatures) ran first: the route's own form parser then reads nothing.
        host.use(kept);
        host.post('/prefs', lib.urlencoded({ extended: true }), consent.collect(['analytics']), (_req, res, next) => {
          (res.locals.consent as CollectedConsent).commit('kept-raw').then(() => { res.sendStatus(204); }, next);
        });
        const res = await request(host).post('/prefs').type('form').send('consent[analytics]=on');
        expectProblem(res, 415, 'unsupported_media_type', '/prefs');
      }
      // The box was checked: the grant stands, no denial was recorded.
      expect((await consent.history('kept-raw')).events.map((e) => e.action)).to.deep.equal(['grant']);
    });

    it('calls onMissing instead of answering', async () => {
      const res = await request(app).post('/custom').type('form').send('consent[terms]=off').expect(400);
      expect(res.text).to.equal('missing terms');
    });

    it('passes what a host callback throws (onMissing, locale) to the host error handler', async () => {
      const lib = expressModule();
      const host = lib();
      const form = lib.urlencoded({ extended: true });
      const broken = () => { throw new Error('host callback broke'); };
      host.post('/missing', form, t.consent.collect(['terms'], { onMissing: broken }), (_req, res) => { res.sendStatus(204); });
      host.post('/locale', form, t.consent.collect(['terms'], { locale: broken }), (_req, res) => { res.sendStatus(204); });
      host.use((error: Error, _req: unknown, res: { status(code: number): { send(text: string): void } }, _next: unknown) => { res.status(599).send(error.message); });
      for (const path of ['/missing', '/locale']) {
        const res = await request(host).post(path).type('form').send('consent[terms]=off').timeout(5000);
        expect([res.status, res.text], path).to.deep.equal([599, 'host callback broke']);
      }
    });
  });
}

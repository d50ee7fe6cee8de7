import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { ConsentError, type Consent } from '../../lib/index';
import { BACKENDS, express4, headerSubject, memoryLogger, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

/** Lone surrogates: UTF-8 encoding would turn each of them into U+FFFD. */
const ILL_FORMED = ['user\uD800', 'user\uDC00', '\uDFFFuser', 'user\uDC00\uD800', '\uD83D'];

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(ConsentError);
    expect((error as ConsentError).status).to.equal(400);
    return (error as ConsentError).code;
  }
  throw new Error('expected a ConsentError');
}

async function eventCount(t: Awaited<ReturnType<typeof testConsent>>): Promise<number> {
  return Number((await t.knex('consent_events').count({ n: '*' }).first())?.n);
}

for (const backend of BACKENDS) {
  backend.describe(`subject ids that are not well-formed Unicode, through the library (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db);
      consent = t.consent;
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('are refused with invalid_subject by every subject method, and nothing is written', async () => {
      for (const subject of ILL_FORMED) {
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['record', () => consent.record(subject, { analytics: 'granted' })],
          ['states', () => consent.states(subject)],
          ['pending', () => consent.pending(subject)],
          ['isAllowed', () => consent.isAllowed(subject, 'analytics')],
          ['history', () => consent.history(subject)],
          ['receipt', () => consent.receipt(subject)],
          ['erase', () => consent.erase(subject)],
          ['export', () => consent.export(subject)],
          ['stateAt', () => consent.stateAt(subject, 'analytics', Date.now())],
          ['verify', () => consent.verify({ subjectId: subject })],
        ];
        for (const [name, call] of calls) expect(await codeOf(call()), `${name}(${JSON.stringify(subject)})`).to.equal('invalid_subject');
      }
      expect(await eventCount(t)).to.equal(0);
    });

    it('do not share the history and states of the id whose UTF-8 encoding they collide with', async () => {
      await consent.record('user\uFFFD', { analytics: 'granted' });
      for (const subject of ['user\uD800', 'user\uDC00']) {
        expect(await codeOf(consent.record(subject, { analytics: 'denied' }))).to.equal('invalid_subject');
        expect(await codeOf(consent.history(subject))).to.equal('invalid_subject');
      }
      expect((await consent.states('user\uFFFD')).analytics?.state).to.equal('granted');
      expect((await consent.history('user\uFFFD')).events).to.have.length(1);
      // A surrogate pair is a well-formed character, and a subject of its own.
      await consent.record('user\u{1F600}', { analytics: 'denied' });
      expect((await consent.states('user\u{1F600}')).analytics?.state).to.equal('denied');
      expect((await consent.states('user\uFFFD')).analytics?.state).to.equal('granted');
    });

    it('are refused in a bulk import, naming the item, and the batch writes nothing', async () => {
      const at = new Date(Date.now() - 1000).toISOString();
      const error = await consent
        .import([
          { subjectId: 'fine', requirement: 'analytics', decision: 'granted', at },
          { subjectId: 'user\uD800', requirement: 'analytics', decision: 'granted', at },
        ])
        .then(() => null, (e: unknown) => e as ConsentError);
      expect(error).to.be.instanceOf(ConsentError).and.include({ code: 'invalid_argument', status: 400 });
      expect((error as ConsentError).extensions.errors).to.deep.equal([{ pointer: '/1/subjectId', detail: 'must be a string of 1–256 characters of well-formed Unicode, or a safe integer' }]);
      expect(await eventCount(t)).to.equal(0);
    });
  });
}

/** The test hook, plus ids a host could take from client input (a decoded JSON claim, say). */
function surrogateSubject(req: express.Request): unknown {
  const value = req.get('x-test-user');
  if (value === 'lone-high') return 'user\uD800';
  if (value === 'lone-low') return 'user\uDC00';
  if (value === 'lone-async') return Promise.resolve('\uDFFF');
  return headerSubject(req);
}

const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];

for (const [name, lib] of [['Express 5', () => express], ['Express 4', express4]] as const) {
  describe(`a subject hook returning an id that is not well-formed Unicode (${name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let logger: ReturnType<typeof memoryLogger>;
    let app: express.Express;

    beforeEach(async () => {
      db = await sqlite.open();
      logger = memoryLogger();
      t = await testConsent(db, { subject: surrogateSubject as (req: express.Request) => string, logger });
      const e = lib();
      app = e();
      app.use('/consent', t.consent.router());
      app.get('/track', t.consent.requireConsent('analytics'), (_req, res) => void res.json({ ok: true }));
      app.post('/signup', e.urlencoded({ extended: true }), t.consent.collect(['terms']), async (_req, res) => {
        const error = await res.locals.consent.commit('user\uD800').then(() => null, (e: unknown) => e as ConsentError);
        res.json({ code: error?.code });
      });
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('answers 400 invalid_body on every subject route and from a guard, never 500, and writes nothing', async () => {
      for (const who of ['lone-high', 'lone-low', 'lone-async']) {
        const as = { 'x-test-user': who };
        const answers: Array<[string, request.Test]> = [
          ['GET /me', request(app).get('/consent/me').set(as)],
          ['GET /me with GPC', request(app).get('/consent/me').set(as).set('sec-gpc', '1')],
          ['PUT', request(app).put('/consent/me/analytics').set(as).send({ decision: 'granted' })],
          ['POST', request(app).post('/consent/me').set(as).send({ decisions: { analytics: 'granted' } })],
          ['DELETE', request(app).delete('/consent/me/analytics').set(as)],
          ['history', request(app).get('/consent/me/history').set(as)],
          ['receipt', request(app).get('/consent/me/receipt').set(as)],
          ['export', request(app).get('/consent/me/export').set(as)],
          ['guard', request(app).get('/track').set(as)],
          ['guard with GPC', request(app).get('/track').set(as).set('sec-gpc', '1')],
        ];
        for (const [what, test] of answers) {
          const problem = expectProblem(await test, 400, 'invalid_body');
          expect(problem.detail, `${who} ${what}`).to.contain('well-formed Unicode');
        }
      }
      expect(logger.errors).to.deep.equal([]);
      expect(await eventCount(t)).to.equal(0);
    });

    it('refuses the id in collect()\'s commit with invalid_subject', async () => {
      const res = await request(app).post('/signup').type('form').send({ 'consent[terms]': 'on' }).expect(200);
      expect(res.body.code).to.equal('invalid_subject');
      expect(await eventCount(t)).to.equal(0);
    });
  });
}

import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import type { Express } from 'express';
import type { CollectedConsent, Consent, ConsentOptions } from '../../lib/index';
import { BACKENDS, express4, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';
import { cookiePair, setCookies } from '../helpers/visitor-app';

const T0 = Date.UTC(2025, 5, 1, 12);
const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];
const MAJORS = [
  { name: 'Express 5', lib: express },
  { name: 'Express 4', lib: express4() },
];
const granted = { decision: 'granted' };

for (const { name, lib } of MAJORS) {
  describe(`rate limit on new visitors per address (${name}, SQLite file)`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;
    let app: Express;
    let now = T0;

    const open = async (options: ConsentOptions = {}) => {
      t = await testConsent(db, { visitors: {}, now: () => new Date(now), ...options });
      consent = t.consent;
      app = lib();
      app.set('trust proxy', 'loopback');
      app.use('/consent', consent.router());
      app.post('/form', lib.urlencoded({ extended: false }), consent.collect(['analytics']), (_req, res, next) => {
        (res.locals.consent as CollectedConsent).commit().then(() => { res.status(201).end(); }, next);
      });
      // A commit the library refuses (its context is over 200 characters).
      app.post('/form-refused', lib.urlencoded({ extended: false }), consent.collect(['analytics']), (_req, res, next) => {
        (res.locals.consent as CollectedConsent).commit(undefined, { context: 'x'.repeat(201) }).then(() => { res.status(201).end(); }, next);
      });
      // The host's own error handler.
      app.use((error: { status: number; code: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(error.status).json({ code: error.code });
      });
    };
    const stored = async () => (await consent.verify()).checked;
    // A client behind the app's TLS proxy at `ip`.
    const from = (ip: string) => ({ 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': ip });

    beforeEach(async () => {
      now = T0;
      db = await sqlite.open();
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('refuses a new visitor beyond rateLimit.newVisitors per address with 429 and Retry-After, recording nothing and setting no cookie', async () => {
      await open({ rateLimit: { newVisitors: 2, windowMs: 60_000 } });
      const first = cookiePair(await request(app).put('/consent/me/analytics').send(granted).expect(200));
      await request(app).post('/consent/me').send({ decisions: { ads: 'denied' } }).expect(200);
      // Reads never start a visitor, so they are not counted.
      for (let i = 0; i < 3; i += 1) await request(app).get('/consent/me').expect(200);
      const before = await stored();
      now += 15_000;
      const refused = await request(app).put('/consent/me/analytics').send(granted);
      const body = expectProblem(refused, 429, 'rate_limited', '/consent/me/analytics');
      expect(body.detail).to.match(/new visitors from this address/);
      expect(refused.headers['retry-after']).to.equal('45');
      expect(setCookies(refused)).to.deep.equal([]);
      expectProblem(await request(app).delete('/consent/me/ads'), 429, 'rate_limited');
      expect(await stored(), 'nothing recorded').to.equal(before);
      // Known visitors and signed-in subjects write as before.
      await request(app).put('/consent/me/ads').set('Cookie', first).send(granted).expect(200);
      await request(app).put('/consent/me/ads').set('x-test-user', 'ann').send(granted).expect(200);
      // A new window admits new visitors again.
      now += 45_000;
      await request(app).put('/consent/me/analytics').send(granted).expect(200);
    });

    it('does not count first writes refused for what they sent: they started no visitor', async () => {
      await open({ rateLimit: { newVisitors: 1, windowMs: 60_000 } });
      for (let i = 0; i < 3; i += 1) {
        expect((await request(app).post('/consent/me').send({ decisions: { nope: 'granted' } })).status).to.equal(422);
        expect((await request(app).put('/consent/me/analytics').send({ decision: 'granted', version: 9 })).status).to.equal(409);
        expect((await request(app).post('/form-refused').type('form').send('consent[analytics]=on')).status).to.equal(400);
      }
      expect(await stored(), 'nothing recorded').to.equal(0);
      const first = await request(app).put('/consent/me/analytics').send(granted).expect(200);
      expect(setCookies(first)).to.have.length(1);
      expectProblem(await request(app).put('/consent/me/analytics').send(granted), 429, 'rate_limited');
    });

    it('counts each address on its own, an IPv6 address by its /56', async () => {
      await open({ rateLimit: { newVisitors: 1, windowMs: 60_000 } });
      await request(app).put('/consent/me/analytics').set(from('203.0.113.1')).send(granted).expect(200);
      expectProblem(await request(app).put('/consent/me/analytics').set(from('203.0.113.1')).send(granted), 429, 'rate_limited');
      await request(app).put('/consent/me/analytics').set(from('203.0.113.2')).send(granted).expect(200);
      await request(app).put('/consent/me/analytics').set(from('2001:db8:1:100::1')).send(granted).expect(200);
      expectProblem(await request(app).put('/consent/me/analytics').set(from('2001:db8:1:1ff:ffff::2')).send(granted), 429, 'rate_limited');
      await request(app).put('/consent/me/analytics').set(from('2001:db8:1:200::1')).send(granted).expect(200);
    });

    it('bounds visitors started by collect().commit() too', async () => {
      await open({ rateLimit: { newVisitors: 1, windowMs: 60_000 } });
      await request(app).post('/form').type('form').send('consent[analytics]=on').expect(201);
      const before = await stored();
      const refused = await request(app).post('/form').type('form').send('consent[analytics]=on');
      expect([refused.status, refused.body], 'the host\'s error handler gets it').to.deep.equal([429, { code: 'rate_limited' }]);
      expect(setCookies(refused)).to.deep.equal([]);
      expect(await stored()).to.equal(before);
    });

    it('takes newVisitors like the other rateLimit numbers, and rateLimit: false lifts it', async () => {
      const error = await testConsent(db, { visitors: {}, rateLimit: { newVisitors: 0 } }).then(() => null, (e: unknown) => e);
      expect(error).to.include({ code: 'invalid_option' });
      expect((error as Error).message).to.match(/rateLimit\.newVisitors/);
      const typo = await testConsent(db, { visitors: {}, rateLimit: { newVisitor: 5 } as never }).then(() => null, (e: unknown) => e);
      expect((typo as Error).message).to.match(/did you mean "newVisitors"/);
      await open({ rateLimit: false });
      for (let i = 0; i < 3; i += 1) await request(app).put('/consent/me/analytics').send(granted).expect(200);
    });
  });
}

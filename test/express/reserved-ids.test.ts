import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import type { Consent } from '../../lib/index';
import { BACKENDS, express4, memoryLogger, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';
import { cookiePair, visitorApp, visitorIdOf } from '../helpers/visitor-app';

const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];
const MAJORS = [
  { name: 'Express 5', lib: express },
  { name: 'Express 4', lib: express4() },
];

describe('ids in the visitors\' namespace (SQLite file)', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;
  let consent: Consent;
  let logger: ReturnType<typeof memoryLogger>;

  const open = async (visitors: boolean) => {
    logger = memoryLogger();
    t = await testConsent(db, { visitors: visitors ? {} : false, logger });
    consent = t.consent;
  };
  const stored = async () => (await consent.verify()).checked;

  beforeEach(async () => {
    db = await sqlite.open();
  });
  afterEach(async () => {
    await t.close();
    await db.cleanup();
  });

  for (const visitors of [false, true]) {
    for (const { name, lib } of MAJORS) {
      it(`answers 500 (detailing nothing) when the subject hook returns an id of the reserved namespace, and logs the fix once (${name}, visitors ${visitors ? 'on' : 'off'})`, async () => {
        await open(visitors);
        const app = lib();
        app.use('/consent', consent.router());
        app.get('/track', consent.requireConsent('analytics'), (_req, res) => { res.json({ tracked: true }); });
        for (const id of ['visitor:ann', 'visitor:AAAAAAAAAAAAAAAAAAAAAA']) {
          const answers = [
            await request(app).get('/consent/me').set('x-test-user', id),
            await request(app).put('/consent/me/analytics').set('x-test-user', id).send({ decision: 'granted' }),
            await request(app).get('/track').set('x-test-user', id),
          ];
          for (const res of answers) {
            const body = expectProblem(res, 500, 'internal_error');
            expect(body.detail, 'a 500 details nothing').to.equal('An unexpected error occurred.');
            expect(res.text, 'no value of the request in the answer').to.not.contain(id.slice(8));
          }
        }
        expect(logger.errors, 'one line for every request').to.have.length(1);
        const [logged] = logger.errors as Array<{ message: string }>;
        expect(logged?.message).to.match(/subject hook returned an id starting with "visitor:".*Fix:/);
        expect(await stored(), 'nothing recorded').to.equal(0);
        await request(app).get('/consent/me').set('x-test-user', 'ann').expect(200);
      });
    }
  }

  it('library calls accept a visitor\'s own id and refuse any other id starting with "visitor:"', async () => {
    await open(true);
    const app = visitorApp(consent);
    const pair = cookiePair(await request(app).put('/consent/me/analytics').send({ decision: 'granted' }).expect(200));
    const visitorId = visitorIdOf(pair);
    // A visitor's id, as cookies, link() and change events give it, names that visitor.
    expect((await consent.states(visitorId)).analytics?.state).to.equal('granted');
    expect(await consent.isAllowed(visitorId, 'analytics')).to.equal(true);
    await consent.record(visitorId, { ads: 'denied' });
    expect((await consent.history(visitorId)).events.map((e) => e.requirement)).to.deep.equal(['ads', 'analytics']);
    await request(app).get('/track').set('Cookie', pair).expect(200);

    const before = await stored();
    for (const id of ['visitor:ann', 'visitor:', `${visitorId}x`, 'visitor:AAAAAAAAAAAAAAAAAAAAA!']) {
      const calls: Array<() => Promise<unknown>> = [
        () => consent.record(id, { analytics: 'granted' }),
        () => consent.states(id),
        () => consent.isAllowed(id, 'analytics'),
        () => consent.pending(id),
        () => consent.history(id),
        () => consent.erase(id),
      ];
      for (const call of calls) {
        const error = await call().then(() => null, (e: unknown) => e);
        expect(error, `${id}: ${call.toString()}`).to.include({ code: 'invalid_subject', status: 400 });
        expect((error as Error).message).to.match(/reserved for visitors/);
      }
      const imported = await consent.import([{ subjectId: id, requirement: 'analytics', decision: 'granted', at: new Date() }]).then(() => null, (e: unknown) => e);
      expect(imported, id).to.include({ code: 'invalid_argument' });
    }
    expect(await stored(), 'nothing recorded').to.equal(before);
  });
});

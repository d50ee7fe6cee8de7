import { expect } from 'chai';
import request from 'supertest';
import type { Request } from 'express';
import { BACKENDS, expressModule, headerSubject, testConsent, type TestDatabase } from '../helpers/app';

const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];

// A tenant's people are told apart by the tenant in the path: `ann` of acme is not `ann` of beta.
const tenantSubject = (req: Request) => {
  const user = headerSubject(req);
  const tenant = (req.params as Record<string, string | undefined>).tenant;
  return typeof user === 'string' && tenant !== undefined ? `${tenant}:${user}` : undefined;
};

describe('a router mounted under a path parameter (SQLite file)', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;

  beforeEach(async () => {
    db = await sqlite.open();
    t = await testConsent(db, { subject: tenantSubject });
  });
  afterEach(async () => {
    await t.close();
    await db.cleanup();
  });

  it("gives the subject hook the mount path's parameters, so the router and the guard agree on who decides", async () => {
    const app = expressModule()();
    app.use('/:tenant/consent', t.consent.router());
    app.get('/:tenant/insights', t.consent.requireConsent('analytics'), (_req, res) => { res.send('insights'); });
    const ann = { 'x-test-user': 'ann' };

    await request(app).put('/acme/consent/me/analytics').set(ann).send({ decision: 'granted' }).expect(200);
    expect(await t.consent.isAllowed('acme:ann', 'analytics')).to.equal(true);
    expect((await request(app).get('/acme/consent/me').set(ann).expect(200)).body.states.analytics.state).to.equal('granted');
    expect((await request(app).get('/acme/insights').set(ann).expect(200)).text).to.equal('insights');
    // Another tenant's ann is another person.
    expect((await request(app).get('/beta/consent/me').set(ann).expect(200)).body.states.analytics.state).to.equal('unset');
    await request(app).get('/beta/insights').set(ann).expect(403);
    await request(app).post('/beta/consent/me').set(ann).send({ decisions: { ads: 'denied' } }).expect(200);
    await request(app).delete('/beta/consent/me/analytics').set(ann).expect(200);
    expect(await t.consent.isAllowed('acme:ann', 'analytics')).to.equal(true);
    expect((await t.consent.states('beta:ann')).ads?.state).to.equal('denied');
  });

  it("keeps the router's own parameters over the mount's of the same name", async () => {
    const app = expressModule()();
    app.use('/:tenant/:id/consent', t.consent.router());
    await request(app).put('/acme/x/consent/me/analytics').set('x-test-user', 'ann').send({ decision: 'granted' }).expect(200);
    expect(await t.consent.isAllowed('acme:ann', 'analytics')).to.equal(true);
  });
});

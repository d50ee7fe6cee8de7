import { expect } from 'chai';
import request from 'supertest';
import { BACKENDS, expressModule, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];
const cross = { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://partner.example' };

describe('a router mounted at / beside the host app (SQLite file)', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>> | undefined;

  beforeEach(async () => { db = await sqlite.open(); });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await db.cleanup();
  });

  it("without the admin option, leaves the host's own /admin writes from another site to the host", async () => {
    t = await testConsent(db);
    const app = expressModule()();
    app.use(t.consent.router());
    app.post('/admin/users', (_req, res) => { res.send('host admin'); });
    expect((await request(app).post('/admin/users').set(cross).expect(200)).text).to.equal('host admin');
    expectProblem(await request(app).put('/me/analytics').set(cross).set('x-test-user', 'ann').send({ decision: 'granted' }), 403, 'forbidden');
  });

  it('with the admin option, refuses cross-site writes to the admin routes', async () => {
    t = await testConsent(db, { admin: { authorize: () => true } });
    const app = expressModule()();
    app.use(t.consent.router());
    expectProblem(await request(app).delete('/admin/subjects/ann').set(cross), 403, 'forbidden');
  });
});

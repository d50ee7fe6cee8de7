import { expect } from 'chai';
import request from 'supertest';
import type { Request } from 'express';
import { BACKENDS, expressModule, testConsent, type TestDatabase } from '../helpers/app';

BACKENDS[0]?.describe('confirmation links of a router mounted under a path parameter', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;
  let release: () => void = () => undefined;
  let held: Promise<void>;
  let asked: () => void = () => undefined;
  let annAsked: Promise<void>;

  beforeEach(async () => {
    held = new Promise<void>((resolve) => { release = resolve; });
    annAsked = new Promise<void>((resolve) => { asked = resolve; });
    db = await (BACKENDS[0] as (typeof BACKENDS)[number]).open();
    // Ann's subject resolves only once the test says so: another request is handled meanwhile.
    t = await testConsent(db, {
      // A staff request is authorized only once the test says so, as Ann's subject is resolved.
      admin: { authorize: (req: Request) => (req.get('x-admin') === 'held' ? (asked(), held.then(() => true)) : false) },
      subject: (req: Request) => {
        if (req.get('x-test-user') !== 'ann') return req.get('x-test-user');
        asked();
        return held.then(() => 'ann');
      },
    });
  });
  afterEach(async () => {
    await t.close();
    await db.cleanup();
  });

  it("starts a write's link with the mount path of that request, whatever another request used meanwhile", async () => {
    const urls: string[] = [];
    t.consent.on('confirmation', ({ url }) => { urls.push(url); });
    const lib = expressModule();
    const app = lib();
    app.use('/t/:tenant/consent', t.consent.router());
    const write = request(app).put('/t/acme/consent/me/newsletter').set('x-test-user', 'ann').send({ decision: 'granted' }).then((res) => res);
    await annAsked;
    await request(app).get('/t/someone-else/consent/requirements').expect(200);
    release();
    expect((await write).status).to.equal(202);
    expect(urls).to.have.length(1);
    expect(urls[0]).to.match(/^\/t\/acme\/consent\/confirm\/[A-Za-z0-9_-]+$/);
  });

  it("starts the link of a grant staff recorded through the router with that request's mount path", async () => {
    const urls: string[] = [];
    t.consent.on('confirmation', ({ url }) => { urls.push(url); });
    const lib = expressModule();
    const app = lib();
    app.use('/t/:tenant/consent', t.consent.router());
    const write = request(app).post('/t/acme/consent/admin/subjects/bob/decisions').set('x-admin', 'held')
      .send({ decisions: { newsletter: 'granted' } }).then((res) => res);
    await annAsked;
    await request(app).get('/t/someone-else/consent/requirements').expect(200);
    release();
    expect((await write).status).to.equal(200);
    expect(urls).to.have.length(1);
    expect(urls[0]).to.match(/^\/t\/acme\/consent\/confirm\/[A-Za-z0-9_-]+$/);
  });
});

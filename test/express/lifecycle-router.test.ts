import { expect } from 'chai';
import request from 'supertest';
import type { ConfirmationPayload } from '../../lib/index';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';

for (const backend of BACKENDS) {
  backend.describe(`lifecycle through consent.router() (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    const links: ConfirmationPayload[] = [];

    beforeEach(async () => {
      links.length = 0;
      db = await backend.open();
      t = await testConsent(db, { sweep: false });
      t.consent.on('confirmation', (c) => void links.push(c));
    });

    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    const as = (user: string) => ({ 'x-test-user': user });
    const trail = async (user: string) => (await t.consent.history(user)).events.map((e) => `${e.requirement}:${e.action}/${e.source}`);

    it('PUT grants pending (202), the link shows without confirming, its form confirms, problems are problem+json', async () => {
      const app = routerApp(t.consent);
      const pending = await request(app).put('/consent/me/newsletter').set(as('ana')).send({ decision: 'granted' }).expect(202);
      expect(pending.body).to.include({ state: 'pending', allowed: false });
      const { url, subjectId } = links[0]!;
      expect(subjectId).to.equal('ana');
      expect(url).to.match(/^\/consent\/confirm\/[A-Za-z0-9_-]+$/);

      const page = await request(app).get(url).set('Accept', 'text/html').expect(200);
      const action = /<form method="post" action="([^"]+)">/.exec(page.text)?.[1];
      expect(action).to.equal(url);
      expect((await request(app).get('/consent/me').set(as('ana')).expect(200)).body.states.newsletter.state).to.equal('pending');

      expect((await request(app).post(url).type('text').send('hi').expect(415)).headers['content-type']).to.match(/problem\+json/);
      const confirmed = await request(app).post(action!).type('form').send('').expect(200);
      expect(confirmed.body).to.include({ id: 'newsletter', state: 'granted', allowed: true });
      const reused = await request(app).post(url).expect(404);
      expect(reused.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(reused.body).to.include({ code: 'token_invalid', status: 404 });
      expect(await trail('ana')).to.deep.equal(['newsletter:confirm/confirm', 'newsletter:request/api']);
    });

    it('records Sec-GPC: 1 before answering GET /me, once; a grant sent with the signal is kept', async () => {
      const app = routerApp(t.consent);
      const seen = await request(app).get('/consent/me').set(as('bo')).set('Sec-GPC', '1').expect(200);
      expect(seen.body.gpc).to.deep.equal({ seen: true });
      expect(seen.body.states.ads).to.include({ state: 'denied', allowed: false });
      expect(seen.body.states.fraud).to.include({ state: 'denied', allowed: false });
      await request(app).get('/consent/me').set(as('bo')).set('Sec-GPC', '1').expect(200);
      expect(await trail('bo')).to.deep.equal(['fraud:deny/gpc', 'ads:deny/gpc']);

      const optIn = await request(app).put('/consent/me/ads').set(as('cy')).set('Sec-GPC', '1').send({ decision: 'granted' }).expect(200);
      expect(optIn.body).to.include({ state: 'granted', allowed: true });
      expect(await trail('cy')).to.deep.equal(['fraud:deny/gpc', 'ads:grant/api']);
      const after = await request(app).get('/consent/me').set(as('cy')).set('Sec-GPC', '1').expect(200);
      expect(after.body.states.ads).to.include({ state: 'granted', allowed: true });
      expect(await trail('cy')).to.have.length(2);
    });

    it('records nothing for a request without a subject', async () => {
      const app = routerApp(t.consent);
      await request(app).get('/consent/me').set('Sec-GPC', '1').expect(401);
      await request(app).get('/consent/requirements').set('Sec-GPC', '1').expect(200);
      expect(await t.knex('consent_events').count({ n: '*' })).to.deep.equal([{ n: backend.name === 'PostgreSQL' ? '0' : 0 }]);
    });
  });
}

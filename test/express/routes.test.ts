import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { BACKENDS, REQUIREMENTS, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

for (const backend of BACKENDS) {
  backend.describe(`router routes (${backend.name})`, () => {
    let db: TestDatabase;
    let close: () => Promise<void>;
    let app: Express;

    beforeEach(async () => {
      db = await backend.open();
      const t = await testConsent(db);
      close = t.close;
      app = routerApp(t.consent);
    });
    afterEach(async () => {
      await close();
      await db.cleanup();
    });

    const as = (user: string) => ({ 'x-test-user': user });

    it('GET /requirements lists every field in registration order, without a subject', async () => {
      const res = await request(app).get('/consent/requirements').expect(200);
      expect(res.body.requirements.map((r: { id: string }) => r.id)).to.deep.equal(REQUIREMENTS.map((r) => r.id));
      const text = { title: 'Usage analytics', description: 'We record which pages you open.', url: '/privacy#analytics' };
      const info = { controller: null, purposes: null, dataCategories: null, recipients: null, retention: null, transfers: null };
      expect(res.body.locale).to.equal('en');
      expect(res.body.requirements[0]).to.deep.equal({
        id: 'analytics', version: 1, ...text, ...info,
        lawfulBasis: 'consent', mandatory: false, expiresAfterDays: 1, doubleOptIn: false, gpc: false,
        defaultLocale: 'en', locales: ['en'], texts: { en: { ...text, ...info } }, effectiveFrom: null, locale: 'en',
      });
      expect(res.body.requirements[1].url).to.equal(null);
    });

    it('GET /me returns states, the pending list and whether GPC was seen', async () => {
      const res = await request(app).get('/consent/me').set(as('alice')).expect(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(Object.keys(res.body.states)).to.deep.equal(REQUIREMENTS.map((r) => r.id));
      expect(res.body.states.analytics).to.deep.equal({ id: 'analytics', state: 'unset', allowed: false, version: null, decidedAt: null, expiresAt: null });
      expect(res.body.states.fraud.allowed).to.equal(true);
      expect(res.body.pending).to.deep.equal(['analytics', 'newsletter', 'ads']);
      expect(res.body.gpc).to.deep.equal({ seen: false });
      const gpc = await request(app).get('/consent/me').set(as('alice')).set('Sec-GPC', '1').expect(200);
      expect(gpc.body.gpc).to.deep.equal({ seen: true });
      expect(gpc.body.states.fraud.allowed).to.equal(false);
    });

    it('records the GPC signal of a read only once its query is accepted: a refused read changes nothing', async () => {
      expectProblem(await request(app).get('/consent/me/history?limit=999').set(as('gina')).set('Sec-GPC', '1'), 400, 'invalid_body');
      expect((await request(app).get('/consent/me/history').set(as('gina')).expect(200)).body.events).to.deep.equal([]);
      const read = await request(app).get('/consent/me/history').set(as('gina')).set('Sec-GPC', '1').expect(200);
      expect(read.body.events.map((e: { source: string; requirement: string }) => `${e.source}:${e.requirement}`)).to.deep.equal(['gpc:fraud', 'gpc:ads']);
    });

    it('answers /me as JSON of its exact length, and HEAD /me with the same headers and no body', async () => {
      const got = await request(app).get('/consent/me').set(as('alice')).expect(200);
      expect(got.headers['content-type']).to.equal('application/json; charset=utf-8');
      expect(Number(got.headers['content-length'])).to.equal(Buffer.byteLength(got.text));
      expect(JSON.parse(got.text)).to.deep.equal(got.body);
      const head = await request(app).head('/consent/me').set(as('alice')).expect(200);
      expect(head.headers['content-type']).to.equal('application/json; charset=utf-8');
      expect(head.headers['content-length']).to.equal(got.headers['content-length']);
      expect(head.headers['cache-control']).to.equal('no-store');
      expect(head.text).to.equal(undefined);
      // Personal answers are never revalidated: no ETag is computed for them.
      expect(got.headers.etag).to.equal(undefined);
      const receipt = await request(app).get('/consent/me/receipt').set(as('alice')).expect(200);
      expect(receipt.headers['cache-control']).to.equal('no-store');
      expect(receipt.headers.etag).to.equal(undefined);
      expect(Number(receipt.headers['content-length'])).to.equal(Buffer.byteLength(receipt.text));
      const written = await request(app).post('/consent/me').set(as('alice')).send({ decisions: { analytics: 'granted' } }).expect(200);
      expect(Number(written.headers['content-length'])).to.equal(Buffer.byteLength(written.text));
      expect(written.body.states.analytics.state).to.equal('granted');
    });

    it('answers problems under /me, sent with no-store, with no ETag and their exact length, and HEAD without a body', async () => {
      for (const res of [
        await request(app).get('/consent/me'),
        await request(app).put('/consent/me/nope').set(as('alice')).send({ decision: 'granted' }),
        await request(app).put('/consent/me/analytics').set(as('alice')).send({ decision: 'maybe' }),
        await request(app).get('/consent/me/history?limit=0').set(as('alice')),
      ]) {
        expect(res.status).to.be.within(400, 499);
        expect(res.headers['content-type']).to.equal('application/problem+json; charset=utf-8');
        expect(res.headers['cache-control']).to.equal('no-store');
        // It quotes the request's address: never sniffed as anything but JSON.
        expect(res.headers['x-content-type-options']).to.equal('nosniff');
        expect(res.headers.etag).to.equal(undefined);
        expect(Number(res.headers['content-length'])).to.equal(Buffer.byteLength(res.text));
      }
      const head = await request(app).head('/consent/me').expect(401);
      expect(head.headers['content-type']).to.equal('application/problem+json; charset=utf-8');
      expect(head.text).to.equal(undefined);
    });

    it("answers /me with the host app's json spaces, replacer and escape settings, as res.json would", async () => {
      app.set('json spaces', 2);
      app.set('json escape', true);
      app.set('json replacer', (key: string, value: unknown) => (key === 'gpc' ? undefined : value));
      await request(app).post('/consent/me').set(as('bob')).send({ decisions: { analytics: 'granted' }, note: 'asked <b>twice</b> & agreed' }).expect(200);
      const me = await request(app).get('/consent/me').set(as('bob')).expect(200);
      expect(me.text).to.match(/^\{\n {2}"states": \{\n {4}"analytics"/);
      expect(me.body).to.not.have.property('gpc');
      const history = await request(app).get('/consent/me/history').set(as('bob')).expect(200);
      expect(history.text).to.include('asked \\u003cb\\u003etwice\\u003c/b\\u003e \\u0026 agreed');
      expect(history.body.events[0].note).to.equal('asked <b>twice</b> & agreed');
    });

    it('PUT /me/:id records a grant (200) and a double opt-in grant as pending (202)', async () => {
      const granted = await request(app).put('/consent/me/analytics').set(as('alice')).send({ decision: 'granted', version: 1 }).expect(200);
      expect(granted.body).to.include({ id: 'analytics', state: 'granted', allowed: true, version: 1 });
      expect(Date.parse(granted.body.expiresAt) - Date.parse(granted.body.decidedAt)).to.equal(86_400_000);
      const pending = await request(app).put('/consent/me/newsletter').set(as('alice')).send({ decision: 'granted' }).expect(202);
      expect(pending.body).to.include({ id: 'newsletter', state: 'pending', allowed: false });
      const me = await request(app).get('/consent/me').set(as('alice')).expect(200);
      expect(me.body.states.analytics.state).to.equal('granted');
      expect(me.body.pending).to.deep.equal(['ads']);
    });

    it('PUT /me/:id with a stale version is 409 and records nothing', async () => {
      const res = await request(app).put('/consent/me/analytics').set(as('alice')).send({ decision: 'granted', version: 2 });
      expectProblem(res, 409, 'version_mismatch', '/consent/me/analytics');
      const me = await request(app).get('/consent/me').set(as('alice')).expect(200);
      expect(me.body.states.analytics.state).to.equal('unset');
    });

    it('POST /me records a batch all-or-nothing', async () => {
      const res = await request(app).post('/consent/me').set(as('bob'))
        .send({ decisions: { analytics: 'granted', ads: { decision: 'denied', version: 1 } }, note: 'banner', data: { banner: 'v2' } })
        .expect(200);
      expect(Object.keys(res.body)).to.deep.equal(['states', 'pending']);
      expect(res.body.states.analytics.state).to.equal('granted');
      expect(res.body.states.ads.state).to.equal('denied');
      expect(res.body.pending).to.deep.equal(['newsletter']);
      const refused = await request(app).post('/consent/me').set(as('bob')).send({ decisions: { ads: 'granted', nope: 'granted', zap: 'denied' } });
      expect(expectProblem(refused, 422, 'unknown_requirement').ids).to.deep.equal(['nope', 'zap']);
      const me = await request(app).get('/consent/me').set(as('bob')).expect(200);
      expect(me.body.states.ads.state).to.equal('denied');
    });

    it('DELETE /me/:id withdraws a grant and denies an unset requirement', async () => {
      await request(app).put('/consent/me/analytics').set(as('carol')).send({ decision: 'granted' }).expect(200);
      const withdrawn = await request(app).delete('/consent/me/analytics').set(as('carol')).expect(200);
      expect(withdrawn.body).to.include({ id: 'analytics', state: 'denied', allowed: false });
      await request(app).delete('/consent/me/ads').set(as('carol')).expect(200);
      const history = await request(app).get('/consent/me/history').set(as('carol')).expect(200);
      expect(history.body.events.map((e: { requirement: string; action: string }) => `${e.requirement}:${e.action}`))
        .to.deep.equal(['ads:deny', 'analytics:withdraw', 'analytics:grant']);
      expect(history.body.events.every((e: { source: string }) => e.source === 'api')).to.equal(true);
    });

    it('GET /me/history pages with limit and cursor, filters by requirement, keeps note and data', async () => {
      for (const decision of ['granted', 'denied', 'granted']) {
        await request(app).put('/consent/me/analytics').set(as('dave')).send({ decision, note: `n-${decision}`, data: { d: decision } }).expect(200);
      }
      await request(app).put('/consent/me/ads').set(as('dave')).send({ decision: 'denied' }).expect(200);
      const first = await request(app).get('/consent/me/history?limit=2').set(as('dave')).expect(200);
      expect(first.headers['cache-control']).to.equal('no-store');
      expect(first.body.events.map((e: { requirement: string }) => e.requirement)).to.deep.equal(['ads', 'analytics']);
      expect(first.body.nextCursor).to.be.a('string');
      const second = await request(app).get('/consent/me/history').query({ limit: 2, cursor: first.body.nextCursor }).set(as('dave')).expect(200);
      expect(second.body.events.map((e: { action: string }) => e.action)).to.deep.equal(['withdraw', 'grant']);
      expect(second.body.nextCursor).to.equal(null);
      expect(second.body.events[1]).to.include({ note: 'n-granted', source: 'api', version: 1, state: 'granted' });
      expect(second.body.events[1].data).to.deep.equal({ d: 'granted' });
      const filtered = await request(app).get('/consent/me/history?requirement=ads').set(as('dave')).expect(200);
      expect(filtered.body.events).to.have.length(1);
    });

    it('GET /me/history refuses a bad query with pointers', async () => {
      for (const [query, pointer] of [['limit=0', '/limit'], ['limit=201', '/limit'], ['limit=abc', '/limit'], ['requirement=BAD!', '/requirement'], ['cursor=zzz', '/cursor']]) {
        const res = await request(app).get(`/consent/me/history?${String(query)}`).set(as('erin'));
        const body = expectProblem(res, 400, 'invalid_body');
        expect((body.errors as Array<{ pointer: string }>)[0]?.pointer).to.equal(pointer);
      }
    });

    it('GET /openapi.json needs no subject and names the mount point as its server', async () => {
      const res = await request(app).get('/consent/openapi.json').expect(200);
      expect(res.body.openapi).to.equal('3.1.0');
      expect(res.body.servers).to.deep.equal([{ url: '/consent' }]);
      expect(Object.keys(res.body.paths)).to.include.members(['/requirements', '/me', '/me/{id}', '/me/history', '/openapi.json']);
    });

    it('confirmation routes are not mounted, and admin routes only with the admin option', async () => {
      await request(app).post('/consent/confirm/some-token').expect(404);
      await request(app).get('/consent/admin/stats').expect(404);
      await request(app).get('/consent/receipts/key').expect(200);
    });
  });
}

import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import type { Consent } from '../../lib/index';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

for (const backend of BACKENDS) {
  backend.describe(`admin subject routes (${backend.name})`, () => {
    let db: TestDatabase;
    let close: () => Promise<void>;
    let consent: Consent;
    let app: Express;

    beforeEach(async () => {
      db = await backend.open();
      const t = await testConsent(db, { admin: { authorize: headerAdmin } });
      close = t.close;
      consent = t.consent;
      app = routerApp(consent);
      await consent.record('alice', { analytics: 'granted', ads: 'denied' }, { note: 'signup' });
      await consent.record('alice', { analytics: 'denied' });
      await consent.record('bob', { ads: 'granted' });
    });
    afterEach(async () => {
      await close();
      await db.cleanup();
    });

    it('GET /admin/subjects/:subjectId returns that subject\'s states and pending list', async () => {
      const res = await request(app).get('/consent/admin/subjects/alice').set(ADMIN).expect(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body).to.have.all.keys('states', 'pending');
      expect(res.body.states).to.deep.equal(await consent.states('alice'));
      expect(res.body.pending).to.deep.equal(['newsletter']);
      const nobody = await request(app).get('/consent/admin/subjects/nobody').set(ADMIN).expect(200);
      expect(nobody.body.pending).to.deep.equal(['analytics', 'newsletter', 'ads']);
      expectProblem(await request(app).get(`/consent/admin/subjects/${'x'.repeat(300)}`).set(ADMIN), 400, 'invalid_body');
    });

    it('GET /admin/subjects/:subjectId/history pages like /me/history and validates the query', async () => {
      const first = await request(app).get('/consent/admin/subjects/alice/history?limit=2').set(ADMIN).expect(200);
      expect(first.body.events.map((e: { action: string; requirement: string }) => `${e.action}:${e.requirement}`))
        .to.deep.equal(['withdraw:analytics', 'deny:ads']);
      expect(first.body.nextCursor).to.be.a('string');
      const second = await request(app)
        .get(`/consent/admin/subjects/alice/history?limit=2&cursor=${String(first.body.nextCursor)}`).set(ADMIN).expect(200);
      expect(second.body).to.deep.include({ nextCursor: null });
      expect(second.body.events.map((e: { action: string; note: string }) => [e.action, e.note])).to.deep.equal([['grant', 'signup']]);
      const only = await request(app).get('/consent/admin/subjects/alice/history?requirement=ads').set(ADMIN).expect(200);
      expect(only.body.events).to.have.length(1);
      const bad = expectProblem(await request(app).get('/consent/admin/subjects/alice/history?limit=0&requirement=NO').set(ADMIN), 400, 'invalid_body');
      expect((bad.errors as Array<{ pointer: string }>).map((e) => e.pointer)).to.deep.equal(['/limit', '/requirement']);
    });

    it('DELETE /admin/subjects/:subjectId erases: 200 { events }, then the subject is unset', async () => {
      await request(app).delete('/consent/admin/subjects/alice').set(ADMIN).expect(200, { events: 3 });
      const after = await request(app).get('/consent/admin/subjects/alice').set(ADMIN).expect(200);
      for (const info of Object.values(after.body.states as Record<string, { state: string }>)) expect(info.state).to.equal('unset');
      const me = await request(app).get('/consent/me').set('x-test-user', 'alice').expect(200);
      expect(me.body.states.analytics.state).to.equal('unset');
      const history = await request(app).get('/consent/admin/subjects/alice/history').set(ADMIN).expect(200);
      expect(history.body.events).to.deep.equal([]);
      const erase = await request(app).get('/consent/admin/events?action=erase').set(ADMIN).expect(200);
      expect(erase.body.events.map((e: { source: string; subject: unknown }) => [e.source, e.subject])).to.deep.equal([['admin', null]]);
      expect((await consent.states('bob')).ads?.state).to.equal('granted');
      await request(app).delete('/consent/admin/subjects/nobody').set(ADMIN).expect(200, { events: 0 });
      await request(app).get('/consent/admin/verify').set(ADMIN).expect(200, { ok: true, checked: 5, problems: [] });
    });

    it('GET /admin/verify checks one subject by id', async () => {
      const res = await request(app).get('/consent/admin/verify?subjectId=bob').set(ADMIN).expect(200);
      expect(res.body).to.deep.equal({ ok: true, checked: 1, problems: [] });
    });
  });
}

import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import { headerAdmin } from '../helpers/admin';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

const ADMIN_GETS = ['/admin/subjects/alice', '/admin/subjects/alice/history', '/admin/events', '/admin/export', '/admin/verify', '/admin/checkpoint', '/admin/stats'];

for (const backend of BACKENDS) {
  backend.describe(`admin authorization (${backend.name})`, () => {
    let db: TestDatabase;
    const closers: Array<() => Promise<void>> = [];
    let app: Express;

    beforeEach(async () => {
      db = await backend.open();
      const t = await testConsent(db, { admin: { authorize: headerAdmin } });
      closers.push(t.close);
      await t.consent.record('alice', { analytics: 'granted' });
      app = routerApp(t.consent);
    });
    afterEach(async () => {
      while (closers.length > 0) await (closers.pop() as () => Promise<void>)();
      await db.cleanup();
    });

    it('answers 403 forbidden to every admin route unless authorize resolves exactly true', async () => {
      for (const header of [undefined, 'no', 'string', 'one', 'throw', 'reject', 'throw-bare', 'reject-bare', 'getter', 'revoked']) {
        for (const path of ADMIN_GETS) {
          const req = request(app).get(`/consent${path}`);
          if (header !== undefined) req.set('x-admin', header);
          expectProblem(await req, 403, 'forbidden', `/consent${path}`);
        }
        const del = request(app).delete('/consent/admin/subjects/alice');
        if (header !== undefined) del.set('x-admin', header);
        expectProblem(await del, 403, 'forbidden');
      }
      // Nothing was erased by the refused DELETEs.
      const ok = await request(app).get('/consent/admin/subjects/alice').set('x-admin', 'later').expect(200);
      expect(ok.body.states.analytics.state).to.equal('granted');
    });

    it('applies the body rules to admin writes: 415 for a non-JSON body, 400 for any JSON body', async () => {
      const text = await request(app).delete('/consent/admin/subjects/alice').set('x-admin', 'yes').type('text').send('x');
      expectProblem(text, 415, 'unsupported_media_type');
      const json = await request(app).delete('/consent/admin/subjects/alice').set('x-admin', 'yes').send({ really: true });
      expect(expectProblem(json, 400, 'invalid_body').errors).to.deep.equal([{ pointer: '', detail: 'this request takes no body' }]);
      const state = await request(app).get('/consent/admin/subjects/alice').set('x-admin', 'yes').expect(200);
      expect(state.body.states.analytics.state).to.equal('granted');
    });

    it('has no admin paths without the admin option: they fall through to the host', async () => {
      const t = await testConsent(db);
      closers.push(t.close);
      const plain = routerApp(t.consent);
      plain.use((_req, res) => {
        res.status(404).type('text').send('host 404');
      });
      for (const path of ADMIN_GETS) {
        const res = await request(plain).get(`/consent${path}`).set('x-admin', 'yes').expect(404);
        expect(res.text).to.equal('host 404');
      }
      const del = await request(plain).delete('/consent/admin/subjects/alice').set('x-admin', 'yes').expect(404);
      expect(del.text).to.equal('host 404');
      expect((await t.consent.states('alice')).analytics?.state).to.equal('granted');
    });
  });
}

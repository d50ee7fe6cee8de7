import { expect } from 'chai';
import request from 'supertest';
import { ConsentError, type CollectedConsent } from '../../lib/index';
import { BACKENDS, expressModule, testConsent, type TestDatabase } from '../helpers/app';

for (const backend of BACKENDS) {
  backend.describe(`collect() with a context (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('records the form\'s context with its decisions, unless commit() names another', async () => {
      const express = expressModule();
      const app = express();
      app.use(express.urlencoded({ extended: true }));
      app.post('/signup', t.consent.collect(['newsletter', 'analytics'], { context: 'signup form' }), (req, res, next) => {
        const consent = res.locals.consent as CollectedConsent;
        const { user } = req.body as { user: string };
        const meta = user === 'bob' ? { context: 'signup form, step 2' } : {};
        consent.commit(user, meta).then(() => { res.json({ ok: true }); }, next);
      });
      await request(app).post('/signup').type('form').send({ user: 'ann', 'consent[analytics]': 'on' }).expect(200);
      await request(app).post('/signup').type('form').send({ user: 'bob' }).expect(200);
      expect((await t.consent.history('ann')).events.map((e) => e.context)).to.deep.equal(['signup form', 'signup form']);
      expect((await t.consent.history('bob')).events.map((e) => e.context)).to.deep.equal(['signup form, step 2', 'signup form, step 2']);
      expect(() => t.consent.collect(['newsletter'], { context: 'x'.repeat(201) })).to.throw(ConsentError).with.property('code', 'invalid_argument');
    });
  });
}

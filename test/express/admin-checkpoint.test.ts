import { expect } from 'chai';
import request from 'supertest';
import { verifyCheckpoint, verifyReceipt, type Checkpoint } from '../../lib/index';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { BACKENDS, express4, expressModule, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

for (const backend of BACKENDS) {
  for (const [major, lib] of [['5', expressModule], ['4', express4]] as const) {
    backend.describe(`GET /admin/checkpoint (${backend.name}, Express ${major})`, () => {
      let db: TestDatabase;
      let t: Awaited<ReturnType<typeof testConsent>>;

      beforeEach(async () => {
        db = await backend.open();
        t = await testConsent(db, { admin: { authorize: headerAdmin } });
      });
      afterEach(async () => {
        await t.close();
        await db.cleanup();
      });

      it('answers a signed checkpoint of the sealed log, emits it, and the store extends it', async () => {
        const app = routerApp(t.consent, lib());
        const made: Checkpoint[] = [];
        t.consent.on('checkpoint', (c) => { made.push(c); });
        await request(app).put('/consent/me/analytics').set('x-test-user', 'ann').send({ decision: 'granted' }).expect(200);
        await request(app).put('/consent/me/analytics').set('x-test-user', 'ann').send({ decision: 'denied' }).expect(200);
        const res = await request(app).get('/consent/admin/checkpoint').set(ADMIN).expect(200);
        expect(res.headers['cache-control']).to.equal('no-store');
        const checkpoint = res.body as Checkpoint;
        expect(checkpoint).to.deep.include({ version: 1, size: 2 });
        expect(made).to.deep.equal([checkpoint]);
        const { publicKey } = (await request(app).get('/consent/receipts/key').expect(200)).body as { publicKey: string };
        expect(verifyCheckpoint(checkpoint, publicKey)).to.equal(true);
        await request(app).put('/consent/me/analytics').set('x-test-user', 'bo').send({ decision: 'granted' }).expect(200);
        expect(await t.consent.verify({ checkpoint })).to.deep.include({ ok: true, checked: 3 });
        // A receipt carries a checkpoint of its own and the proof of the subject's newest event.
        const receipt = (await request(app).get('/consent/me/receipt').set('x-test-user', 'ann').expect(200)).body as Parameters<typeof verifyReceipt>[0];
        expect(verifyReceipt(receipt, publicKey)).to.equal(true);
        expect((receipt as { log: { checkpoint: Checkpoint } }).log.checkpoint.size).to.equal(3);
      });

      it('is refused without authorization', async () => {
        const app = routerApp(t.consent, lib());
        expectProblem(await request(app).get('/consent/admin/checkpoint'), 403, 'forbidden');
        expectProblem(await request(app).get('/consent/admin/checkpoint').set('x-admin', 'no'), 403, 'forbidden');
      });
    });
  }
}

import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';

for (const backend of BACKENDS) {
  backend.describe(`no route reaches another subject (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let app: Express;

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db);
      app = routerApp(t.consent);
      await t.consent.record('victim', { analytics: 'granted', ads: 'granted' }, { note: 'private note' });
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    const attacker = { 'x-test-user': 'attacker' };
    const smuggled = { 'x-subject': 'victim', 'x-user-id': 'victim', 'x-forwarded-user': 'victim', cookie: 'user=victim' };

    it('reads only the signed-in subject, whatever the URL or headers say', async () => {
      for (const path of ['/consent/me?subject=victim', '/consent/me?subjectId=victim&user=victim', '/consent/me/history?subject=victim', '/consent/me/history?requirement=analytics&subjectId=victim']) {
        const res = await request(app).get(path).set(attacker).set(smuggled).expect(200);
        expect(JSON.stringify(res.body)).not.to.match(/granted"|private note/);
      }
      await request(app).get('/consent/me/victim').set(attacker).expect(404);
      await request(app).get('/consent/victim/me').set(attacker).expect(404);
    });

    it('changes only the signed-in subject, whatever the URL, body or headers say', async () => {
      await request(app).delete('/consent/me/analytics?subject=victim').set(attacker).set(smuggled).expect(200);
      await request(app).put('/consent/me/ads').set(attacker).set(smuggled).send({ decision: 'denied', subject: 'victim' }).expect(400);
      await request(app).put('/consent/me/ads').set(attacker).send({ decision: 'denied', data: { subjectId: 'victim' } }).expect(200);
      await request(app).post('/consent/me').set(attacker).send({ decisions: { ads: 'denied' }, subjectId: 'victim' }).expect(400);
      await request(app).post('/consent/me').set(attacker).send({ decisions: { victim: 'denied' } }).expect(422);
      await request(app).delete('/consent/me/victim').set(attacker).expect(404);
      const victim = await t.consent.states('victim');
      expect(victim.analytics?.state).to.equal('granted');
      expect(victim.ads?.state).to.equal('granted');
      expect((await t.consent.history('victim')).events).to.have.length(2);
      const own = await t.consent.states('attacker');
      expect(own.analytics?.state).to.equal('denied');
    });

    it('keeps subjects that differ only in case apart', async () => {
      for (const user of ['Victim', 'VICTIM', 'victim.', 'int:0']) {
        const res = await request(app).get('/consent/me').set('x-test-user', user).expect(200);
        expect(res.body.states.analytics.state, user).to.equal('unset');
      }
    });
  });
}

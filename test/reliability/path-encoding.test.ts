import { expect } from 'chai';
import request from 'supertest';
import { BACKENDS, express4, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';
import express from 'express';

const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];

describe('a path id that is not valid percent-encoding', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;

  beforeEach(async () => {
    db = await sqlite.open();
    t = await testConsent(db);
  });
  afterEach(async () => {
    await t.close();
    await db.cleanup();
  });

  for (const [name, lib] of [['Express 5', () => express], ['Express 4', express4]] as const) {
    it(`is 404 unknown_requirement, not 500, and writes nothing (${name})`, async () => {
      const app = routerApp(t.consent, lib());
      for (const segment of ['%', '%E0%A4%A', '%ZZ']) {
        const put = await request(app).put(`/consent/me/${segment}`).set('x-test-user', 'ann').send({ decision: 'granted' });
        expect(expectProblem(put, 404, 'unknown_requirement').ids).to.deep.equal([segment]);
        expectProblem(await request(app).delete(`/consent/me/${segment}`).set('x-test-user', 'ann'), 404, 'unknown_requirement');
      }
      expect((await t.consent.history('ann')).events).to.deep.equal([]);
    });
  }
});

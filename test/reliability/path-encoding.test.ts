import { expect } from 'chai';
import request from 'supertest';
import { BACKENDS, express4, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { ADMIN, headerAdmin } from '../helpers/admin';
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

    it(`answers the body rules and the missing subject first, as the route does (${name})`, async () => {
      const app = routerApp(t.consent, lib());
      for (const method of ['put', 'delete'] as const) {
        const path = '/consent/me/%F0';
        // Two faults at once: the earlier check in the order answers.
        expectProblem(await request(app)[method](path).set('content-type', 'text/plain').send('x'), 415, 'unsupported_media_type');
        expectProblem(await request(app)[method](path).set('content-type', 'application/json').send('{'), 400, 'invalid_body');
        expectProblem(await request(app)[method](path).send({ decision: 'granted' }), 401, 'no_subject');
        expectProblem(await request(app)[method](path).set('x-test-user', 'ann').set('content-type', 'text/plain').send('x'), 415, 'unsupported_media_type');
        expectProblem(await request(app)[method](path).set('x-test-user', 'ann').send({ note: 'x'.repeat(20_000) }), 413, 'payload_too_large');
        expectProblem(await request(app)[method](path).set('x-test-user', 'ann').set('content-type', 'application/json').send('{'), 400, 'invalid_body');
      }
      expect((await t.consent.history('ann')).events).to.deep.equal([]);
    });

    it(`is a malformed text hash: 400 invalid_body after the body rules (${name})`, async () => {
      const app = routerApp(t.consent, lib());
      const problem = expectProblem(await request(app).get('/consent/texts/%F0'), 400, 'invalid_body');
      expect(problem.errors).to.deep.equal([{ pointer: '/hash', detail: 'must be 64 lowercase hexadecimal digits' }]);
      expectProblem(await request(app).get('/consent/texts/%F0').set('content-type', 'text/plain').send('x'), 415, 'unsupported_media_type');
    });
  }
});

describe('a token or subject id in the path that is not valid percent-encoding', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;

  beforeEach(async () => {
    db = await sqlite.open();
    t = await testConsent(db, { admin: { authorize: headerAdmin } });
    await t.consent.record('ann', { analytics: 'granted' });
  });
  afterEach(async () => {
    await t.close();
    await db.cleanup();
  });

  const BROKEN = ['%', '%E0%A4%A', '%ZZ', '%ED%A0%80', '%C0%AF'];

  for (const [name, lib] of [['Express 5', () => express], ['Express 4', express4]] as const) {
    it(`is a confirmation token nobody was sent: 404 token_invalid, a page for browsers (${name})`, async () => {
      const app = routerApp(t.consent, lib());
      for (const segment of BROKEN) {
        const path = `/consent/confirm/${segment}`;
        const shown = await request(app).get(path);
        expectProblem(shown, 404, 'token_invalid');
        expect(shown.headers['referrer-policy']).to.equal('no-referrer');
        expectProblem(await request(app).post(path), 404, 'token_invalid');
        const page = await request(app).get(path).set('Accept', 'text/html');
        expect(page.status).to.equal(404);
        expect(page.headers['content-type']).to.match(/^text\/html/);
        expect(page.text).to.contain('<h1>This link no longer works</h1>');
      }
    });

    it(`is 400 invalid_body on the admin subject routes, after authorization, and erases nothing (${name})`, async () => {
      const app = routerApp(t.consent, lib());
      for (const segment of BROKEN) {
        for (const [method, path] of [['get', `/consent/admin/subjects/${segment}`], ['get', `/consent/admin/subjects/${segment}/history`], ['delete', `/consent/admin/subjects/${segment}`]] as const) {
          const problem = expectProblem(await request(app)[method](path).set(ADMIN), 400, 'invalid_body');
          expect(problem.detail).to.contain('subject id');
          expectProblem(await request(app)[method](path), 403, 'forbidden');
          expectProblem(await request(app)[method](path).set(ADMIN).set('content-type', 'text/plain').send('x'), 415, 'unsupported_media_type');
        }
      }
      expect((await t.consent.history('ann')).events).to.have.length(1);
    });

    it(`is an unknown requirement on the admin audience route, after authorization (${name})`, async () => {
      const app = routerApp(t.consent, lib());
      for (const segment of BROKEN) {
        const path = `/consent/admin/requirements/${segment}/subjects`;
        expectProblem(await request(app).get(path), 403, 'forbidden');
        expectProblem(await request(app).get(path).set(ADMIN).set('content-type', 'text/plain').send('x'), 415, 'unsupported_media_type');
        expect(expectProblem(await request(app).get(path).set(ADMIN), 404, 'unknown_requirement').ids).to.deep.equal([segment]);
        // The id in the path before the query (404 before 400), whatever is wrong with the query.
        expectProblem(await request(app).get(`${path}?state=%FF`).set(ADMIN), 404, 'unknown_requirement');
      }
      expectProblem(await request(app).get('/consent/admin/requirements/nope/subjects?state=%FF').set(ADMIN), 404, 'unknown_requirement');
      expectProblem(await request(app).get('/consent/admin/requirements/analytics/subjects?state=%FF').set(ADMIN), 400, 'invalid_body');
    });
  }
});

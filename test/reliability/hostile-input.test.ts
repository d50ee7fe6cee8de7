import fc from 'fast-check';
import { expect } from 'chai';
import request from 'supertest';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { guardApp } from '../helpers/guard-app';
import { sendRaw } from '../helpers/raw-body';
import { anyBody, anyContentType, anyId, anySegment, anySubject, expectSafeAnswer } from './hostile';
import { expectTablesIntact, listen } from './load';

const ROUTES = [
  ['get', '/requirements'], ['get', '/me'], ['put', '/me/:id'], ['post', '/me'], ['delete', '/me/:id'],
  ['get', '/me/history'], ['get', '/openapi.json'],
] as const;

const anyQuery = fc.oneof(
  fc.constant(''),
  fc.record({ limit: fc.oneof(fc.integer(), fc.string()), requirement: anyId, cursor: fc.string() }, { requiredKeys: [] })
    .map((q) => `?${new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])).toString()}`),
  fc.constantFrom('?limit[]=1', '?limit[$gt]=0', '?requirement[]=a&requirement[]=b', '?cursor=czE&cursor=czI', '?limit=1e2', '?__proto__[x]=1'),
);

for (const backend of BACKENDS) {
  backend.describe(`hostile input on every route (${backend.name})`, function (this: Mocha.Suite) {
    this.timeout(120_000);
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let server: Awaited<ReturnType<typeof listen>>;
    let calls: Record<string, number>;

    before(async () => {
      db = await backend.open();
      t = await testConsent(db);
      const built = guardApp(t.consent);
      calls = built.calls;
      server = await listen(built.app);
    });
    after(async () => {
      await server.close();
      await t.close();
      await db.cleanup();
    });

    it('never answers 5xx; every refusal is a documented problem; nothing is polluted or half-written', async () => {
      const origin = server.base.replace(/\/consent$/, '');
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...ROUTES), anySegment, anyQuery, anyBody, anyContentType, fc.option(anySubject, { nil: undefined }),
          async ([method, route], segment, query, body, type, subject) => {
            const path = `/consent${route.replace(':id', segment)}${route === '/me/history' ? query : ''}`;
            let req = request(origin)[method](path);
            if (subject !== undefined) req = req.set('x-test-user', subject);
            if (type !== undefined) req = req.set('content-type', type);
            if (body !== undefined) req = sendRaw(req, body);
            const res = await req;
            expectSafeAnswer(res, `${method.toUpperCase()} ${path} ${String(type)} ${String(body).slice(0, 120)}`);
            expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
          }),
        { numRuns: 200 },
      );
      await expectTablesIntact(t.knex);
    });

    it('guards refuse or pass, never fail, whatever the subject', async () => {
      const origin = server.base.replace(/\/consent$/, '');
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('/track', '/both', '/fraud', '/page'), fc.option(anySubject, { nil: undefined }), fc.boolean(), async (path, subject, gpc) => {
          let req = request(origin).get(path);
          if (subject !== undefined) req = req.set('x-test-user', subject);
          if (gpc) req = req.set('sec-gpc', '1');
          const res = await req;
          if (res.status === 200 || res.status === 303) return;
          expectSafeAnswer(res, `${path} ${String(subject)}`);
        }),
        { numRuns: 100 },
      );
      // Nobody granted anything here, so only the contract-based route may have let anyone through.
      expect(Object.keys(calls).filter((name) => name !== 'fraud')).to.deep.equal([]);
    });
  });
}

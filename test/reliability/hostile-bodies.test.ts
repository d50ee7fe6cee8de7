import fc from 'fast-check';
import { expect } from 'chai';
import request from 'supertest';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { BACKENDS, memoryLogger, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { sendRaw } from '../helpers/raw-body';
import { anyCharset, anyCoding, anyEncodableBody, anyPacking, anySegment, anyTextEncoding, expectSafeAnswer, pack } from './hostile';
import { expectTablesIntact, listen } from './load';

/**
 * Requests per database. The default keeps the suite quick; a long run sets it, e.g.
 * `CONSENT_FUZZ_RUNS=20000 npx mocha … test/reliability/hostile-bodies.test.ts`, and gets a
 * summary line per database.
 */
const RUNS = Number(process.env.CONSENT_FUZZ_RUNS ?? 120);

/** Every router route, with `:id`, `:token` and `:subject` filled in per request. */
const ROUTES = [
  ['get', '/requirements'], ['get', '/me'], ['put', '/me/:id'], ['post', '/me'], ['delete', '/me/:id'],
  ['get', '/me/history'], ['get', '/me/receipt'], ['get', '/me/export'], ['get', '/receipts/key'], ['get', '/openapi.json'],
  ['get', '/confirm/:token'], ['post', '/confirm/:token'],
  ['get', '/admin/subjects/:subject'], ['get', '/admin/subjects/:subject/history'], ['delete', '/admin/subjects/:subject'],
  ['get', '/admin/events'], ['get', '/admin/export'], ['get', '/admin/verify'], ['get', '/admin/stats'],
] as const;

const anyMediaType = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('application/json', 'Application/JSON') },
  { weight: 2, arbitrary: fc.constantFrom('application/x-www-form-urlencoded', 'text/plain', 'application/json-seq', undefined) },
);

type Route = (typeof ROUTES)[number];

const anyRequest = fc.record({
  route: fc.constantFrom<Route>(...ROUTES),
  segment: fc.oneof(fc.constant('analytics'), anySegment),
  mediaType: anyMediaType,
  charset: anyCharset,
  coding: anyCoding,
  body: fc.option(anyEncodableBody, { nil: undefined }),
  textEncoding: anyTextEncoding,
  packing: anyPacking,
  withSubject: fc.boolean(),
  asAdmin: fc.boolean(),
});

for (const backend of BACKENDS) {
  backend.describe(`hostile encodings and charsets on every route (${backend.name})`, function (this: Mocha.Suite) {
    this.timeout(60_000 + RUNS * 100);
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let logger: ReturnType<typeof memoryLogger>;
    let server: Awaited<ReturnType<typeof listen>>;

    before(async () => {
      db = await backend.open();
      logger = memoryLogger();
      t = await testConsent(db, { admin: { authorize: headerAdmin }, logger });
      server = await listen(routerApp(t.consent));
    });
    after(async () => {
      await server.close();
      await t.close();
      await db.cleanup();
    });

    it('never answers 5xx; every refusal is a documented problem and writes nothing', async () => {
      const tally = { requests: 0, serverErrors: 0, connectionFailures: 0, statuses: {} as Record<number, number> };
      const started = Date.now();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(anyRequest, async (r) => {
          run += 1;
          const subject = `fz${String(run)}`;
          const [method, route]: Route = r.route;
          const path = route.replace(':id', r.segment).replace(':token', r.segment)
            .replace(':subject', r.segment === 'analytics' ? subject : r.segment);
          let test = request(server.base)[method](path);
          if (r.withSubject) test = test.set('x-test-user', subject);
          if (r.asAdmin) test = test.set(ADMIN);
          if (r.mediaType !== undefined) test = test.set('content-type', r.charset === undefined ? r.mediaType : `${r.mediaType}; charset=${r.charset}`);
          if (r.coding !== undefined) test = test.set('content-encoding', r.coding);
          const bytes = r.body === undefined ? undefined : pack(typeof r.body === 'string' ? Buffer.from(r.body, r.textEncoding) : r.body, r.packing, r.coding);
          const what = `${method.toUpperCase()} ${path} ${JSON.stringify({ ...r, body: bytes?.toString('hex').slice(0, 160) })}`;
          tally.requests += 1;
          let res: request.Response;
          try {
            res = await (bytes === undefined ? test : sendRaw(test, bytes));
          } catch (error) {
            tally.connectionFailures += 1;
            throw new Error(`${what}: the connection failed: ${String(error)}`);
          }
          tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1;
          if (res.status >= 500) tally.serverErrors += 1;
          expectSafeAnswer(res, what);
          if (res.status >= 400) expect((await t.consent.history(subject)).events, what).to.deep.equal([]);
        }),
        { numRuns: RUNS },
      );
      expect(logger.errors, 'unexpected errors logged').to.deep.equal([]);
      await expectTablesIntact(t.knex);
      if (process.env.CONSENT_FUZZ_RUNS !== undefined) {
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        console.log(`      fuzz (${backend.name}, Express ${process.env.CONSENT_EXPRESS_MAJOR ?? '5'}): ${String(tally.requests)} requests in ${seconds} s, ${String(tally.serverErrors)} server errors, ${String(tally.connectionFailures)} connection failures, statuses ${JSON.stringify(tally.statuses)}`);
      }
    });
  });
}

import fc from 'fast-check';
import { expect } from 'chai';
import request from 'supertest';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';
import { allStoredRecords } from '../helpers/records';
import { anyBody, anyQueryish, anySubject, expectSafeAnswer } from './hostile';
import { listen } from './load';

const SMUGGLED = ['x-subject', 'x-user-id', 'x-forwarded-user', 'x-test-subject'];
const WRITES = [['put', '/me/analytics'], ['put', '/me/ads'], ['post', '/me'], ['delete', '/me/analytics'], ['delete', '/me/ads']] as const;
const READS = ['/requirements', '/me', '/me/history', '/me/history?requirement=analytics', '/openapi.json'];
const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=----x', 'text/plain', 'text/plain; charset=utf-8'];

async function snapshot(t: Awaited<ReturnType<typeof testConsent>>): Promise<unknown> {
  const count = async (table: string) => Number((await t.knex(table).count({ n: '*' }).first())?.n);
  // Every current record of the store (each subject's, in its row, pending tokens among them), and
  // when each subject's lapse.
  const lapses = await t.knex('consent_subjects').whereNotNull('records').orderBy('chain').select('chain', 'lapse_at');
  return { events: await count('consent_events'), records: await allStoredRecords(t.knex), lapses };
}

for (const backend of BACKENDS) {
  backend.describe(`access rules (${backend.name})`, function (this: Mocha.Suite) {
    this.timeout(120_000);
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let server: Awaited<ReturnType<typeof listen>>;

    before(async () => {
      db = await backend.open();
      t = await testConsent(db);
      server = await listen(routerApp(t.consent));
    });
    after(async () => {
      await server.close();
      await t.close();
      await db.cleanup();
    });

    it('no route shows or changes another subject\'s data, whatever names it', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(anySubject, anySubject, fc.array(fc.tuple(fc.constantFrom(...WRITES, ...READS.map((p) => ['get', p] as const)), anyBody, anyQueryish), { minLength: 1, maxLength: 4 }),
          async (victimBase, attacker, moves) => {
            run += 1;
            const victim = `v${String(run)}-${victimBase}`.slice(0, 256);
            fc.pre(victim !== attacker);
            const secret = `secret-${String(run)}-${String(Math.random())}`;
            await t.consent.record(victim, { analytics: 'granted', ads: 'granted' }, { note: secret, data: { secret } });
            const before = { states: await t.consent.states(victim), history: await t.consent.history(victim) };
            for (const [[method, path], body, query] of moves) {
              let req = request(server.base)[method](`${path}${path.includes('?') ? '&' : '?'}${query}`).set('x-test-user', attacker);
              for (const header of SMUGGLED) req = req.set(header, victim);
              if (body !== undefined) req = req.set('content-type', 'application/json').send(body);
              const res = await req;
              expectSafeAnswer(res, `${method} ${path}`);
              expect(res.text).not.to.contain(secret);
            }
            expect(await t.consent.states(victim)).to.deep.equal(before.states);
            expect(await t.consent.history(victim)).to.deep.equal(before.history);
          }),
        { numRuns: 60 },
      );
    });

    it('refuses form-encoded and text bodies on every state-changing route (415; 403 from another site), changing nothing', async () => {
      await t.consent.record('forms', { analytics: 'granted' });
      const before = await snapshot(t);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...WRITES), fc.constantFrom(...FORM_TYPES), fc.oneof(fc.constant('decision=denied'), fc.constant('{"decision":"denied"}'), fc.string({ minLength: 1 })),
          async ([method, path], type, body) => {
            const res = await request(server.base)[method](path).set('x-test-user', 'forms').set('content-type', type).send(body);
            expectProblem(res, 415, 'unsupported_media_type');
            // The same request from another site is refused before its body is looked at.
            const crossSite = await request(server.base)[method](path).set('x-test-user', 'forms').set('origin', 'https://evil.example').set('content-type', type).send(body);
            expectProblem(crossSite, 403, 'forbidden');
          }),
        { numRuns: 60 },
      );
      expect(await snapshot(t)).to.deep.equal(before);
      expect((await t.consent.states('forms')).analytics?.state).to.equal('granted');
    });

    it('GET never changes anything, whatever it carries', async () => {
      await t.consent.record('reader', { ads: 'granted' });
      const before = await snapshot(t);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...READS), anyBody, anyQueryish, fc.option(anySubject, { nil: undefined }), async (path, body, query, subject) => {
          let req = request(server.base).get(`${path}${path.includes('?') ? '&' : '?'}${query}`);
          if (subject !== undefined) req = req.set('x-test-user', subject);
          if (body !== undefined) req = req.set('content-type', 'application/json').send(body);
          expectSafeAnswer(await req, `GET ${path}`);
        }),
        { numRuns: 80 },
      );
      expect(await snapshot(t)).to.deep.equal(before);
    });
  });
}

import fc from 'fast-check';
import { expect } from 'chai';
import request from 'supertest';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { routerApp } from '../helpers/app';
import { expectProblem } from '../helpers/problem';
import { expectSafeAnswer } from './hostile';
import { listen } from './load';

const text = fc.oneof(
  fc.string({ maxLength: 500 }),
  fc.string({ unit: 'grapheme', maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.constantFrom("'); DROP TABLE consent_events; --", '<script>alert("x")</script>', '\\u0000', 'a\u0000b', '\ud800', 'é\u0301', '🏳️‍🌈', '\r\n\t'),
);

const KEY = fc.string({ maxLength: 12 }).filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k));
const data = fc.dictionary(KEY, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }).filter((d) => Buffer.byteLength(JSON.stringify(d)) <= 4096);

for (const backend of BACKENDS) {
  backend.describe(`stored text comes back verbatim (${backend.name})`, function (this: Mocha.Suite) {
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

    it('refuses notes a database would alter (lone surrogates, U+0000) instead of storing something else', async () => {
      for (const note of ['\ud800', 'a\udc00', 'a\u0000b']) {
        const res = await request(server.base).put('/me/analytics').set('x-test-user', 'lone').send({ decision: 'granted', note });
        expect(expectProblem(res, 400, 'invalid_body').errors).to.deep.equal([{ pointer: '/note', detail: 'must be well-formed Unicode without U+0000' }]);
      }
      const error = await t.consent.record('lone', { analytics: 'granted' }, { actor: 'x\u0000' }).catch((e: unknown) => e);
      expect(error).to.have.property('code', 'invalid_argument');
      expect((await t.consent.history('lone')).events).to.deep.equal([]);
      // Well-formed pairs and data holding such characters are fine: JSON keeps them escaped.
      await request(server.base).put('/me/analytics').set('x-test-user', 'lone').send({ decision: 'granted', note: '\ud83d\ude00', data: { s: 'a\u0000\ud800' } }).expect(200);
      const [event] = (await t.consent.history('lone')).events;
      expect(event?.note).to.equal('\ud83d\ude00');
      expect(event?.data).to.deep.equal({ s: 'a\u0000\ud800' });
    });

    it('returns every accepted note and data object exactly as sent; refuses what it cannot keep', async () => {
      let subject = 0;
      await fc.assert(
        fc.asyncProperty(text, fc.option(data, { nil: undefined }), fc.boolean(), async (note, sentData, batch) => {
          subject += 1;
          const user = `verbatim-${String(subject)}`;
          const body = JSON.stringify(batch ? { decisions: { analytics: 'granted' }, note, data: sentData } : { decision: 'granted', note, data: sentData });
          const res = batch
            ? await request(server.base).post('/me').set('x-test-user', user).set('content-type', 'application/json').send(body)
            : await request(server.base).put('/me/analytics').set('x-test-user', user).set('content-type', 'application/json').send(body);
          expectSafeAnswer(res, body.slice(0, 200));
          const history = await request(server.base).get('/me/history').set('x-test-user', user).expect(200);
          if (res.status !== 200) {
            expect(history.body.events, 'a refused write stores nothing').to.deep.equal([]);
            return;
          }
          const [event] = history.body.events as Array<{ note: unknown; data: unknown }>;
          expect(event?.note).to.equal(note);
          // What was sent is the JSON text: compare with what that text means.
          expect(event?.data).to.deep.equal(sentData === undefined ? null : JSON.parse(JSON.stringify(sentData)));
        }),
        { numRuns: 150 },
      );
    });
  });
}

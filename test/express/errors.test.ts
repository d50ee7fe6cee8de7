import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { BACKENDS, memoryLogger, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

const pointers = (body: Record<string, unknown>) => (body.errors as Array<{ pointer: string }>).map((e) => e.pointer);

for (const backend of BACKENDS) {
  backend.describe(`router error responses (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let app: Express;
    let logger: ReturnType<typeof memoryLogger>;

    beforeEach(async () => {
      db = await backend.open();
      logger = memoryLogger();
      t = await testConsent(db, { logger });
      app = routerApp(t.consent);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    const put = (path: string) => request(app).put(`/consent${path}`);

    it('415 for a body that is not JSON, before anything else', async () => {
      expectProblem(await put('/me/nope').type('text/plain').send('decision=granted'), 415, 'unsupported_media_type', '/consent/me/nope');
      expectProblem(await put('/me/analytics').type('form').send({ decision: 'granted' }), 415, 'unsupported_media_type');
      expectProblem(await request(app).post('/consent/me').set('content-type', 'application/vnd.api+json').send('{}'), 415, 'unsupported_media_type');
      expectProblem(await put('/me/analytics').set('content-type', 'application/json; charset=latin1').send('{"decision":"granted"}'), 415, 'unsupported_media_type');
    });

    it('413 over 16 KiB, before malformed JSON and the subject', async () => {
      const big = JSON.stringify({ decision: 'granted', note: 'x'.repeat(17 * 1024) });
      const body = expectProblem(await put('/me/analytics').type('json').send(big), 413, 'payload_too_large');
      expect(body.limit).to.equal(16384);
      expectProblem(await put('/me/analytics').type('json').send(`{${' '.repeat(17 * 1024)}`), 413, 'payload_too_large');
    });

    it('400 for malformed JSON, before the subject', async () => {
      for (const raw of ['{"decision":', '"granted"', '[1,']) {
        const body = expectProblem(await put('/me/analytics').type('json').send(raw), 400, 'invalid_body');
        expect(pointers(body)).to.deep.equal(['']);
      }
    });

    it('401 no_subject when the hook returns nothing', async () => {
      expectProblem(await request(app).get('/consent/me'), 401, 'no_subject', '/consent/me');
      expectProblem(await request(app).get('/consent/me').set('x-test-user', 'empty'), 401, 'no_subject');
      expectProblem(await put('/me/nope').send({ wrong: true }), 401, 'no_subject');
      expectProblem(await request(app).get('/consent/me/history?limit=0'), 401, 'no_subject');
    });

    it('a safe integer subject is the same subject as its string', async () => {
      await put('/me/analytics').set('x-test-user', 'int:42').send({ decision: 'granted' }).expect(200);
      const me = await request(app).get('/consent/me').set('x-test-user', '42').expect(200);
      expect(me.body.states.analytics.state).to.equal('granted');
    });

    it('500 internal_error for a bad subject value or a throwing hook, logged and never detailed', async () => {
      for (const user of ['object', 'throw', 'x'.repeat(257), 'int:1.5']) {
        const res = await request(app).get('/consent/me').set('x-test-user', user);
        const body = expectProblem(res, 500, 'internal_error');
        expect(JSON.stringify(body)).not.to.match(/SELECT|exploded|stack/);
      }
      expect(logger.errors).to.have.length(4);
      // The log says what the hook should return instead.
      const logged = (logger.errors as Array<{ error: unknown }>).map((e) => String(e.error));
      expect(logged[0]).to.match(/returned an unusable object: return the person's id \(a string of 1–256 characters, or a safe integer\), not an object holding it/);
      expect(logged[2]).to.match(/returned an id longer than 256 characters: return the person's id/);
      expect(logged[3]).to.match(/returned an unusable number: return the person's id/);
    });

    it('404 for an unknown id in the path, before the body shape', async () => {
      const body = expectProblem(await put('/me/nope').set('x-test-user', 'a').send({ wrong: 1 }), 404, 'unknown_requirement');
      expect(body.ids).to.deep.equal(['nope']);
      expectProblem(await request(app).delete('/consent/me/nope').set('x-test-user', 'a'), 404, 'unknown_requirement');
    });

    it('400 invalid_body for every wrong shape, with pointers', async () => {
      const cases: Array<[unknown, string[]]> = [
        [{ decision: 'granted', subject: 'bob' }, ['/subject']],
        [{}, ['/decision']],
        [{ decision: 'maybe', version: 0 }, ['/decision', '/version']],
        [{ decision: 'granted', note: 'n'.repeat(501) }, ['/note']],
        [{ decision: 'granted', note: 5 }, ['/note']],
        [{ decision: 'granted', data: [1] }, ['/data']],
        [{ decision: 'granted', data: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } }, ['/data/a/b/c/d/e/f/g/h']],
        [{ decision: 'granted', data: { big: 'x'.repeat(4100) } }, ['/data']],
        [[{ decision: 'granted' }], ['']],
      ];
      for (const [sent, expected] of cases) {
        const body = expectProblem(await put('/me/analytics').set('x-test-user', 'a').send(sent as object), 400, 'invalid_body');
        expect(pointers(body), JSON.stringify(sent)).to.deep.equal(expected);
      }
      const proto = await put('/me/analytics').set('x-test-user', 'a').type('json').send('{"decision":"granted","data":{"x":{"__proto__":{"polluted":1}}}}');
      expect(pointers(expectProblem(proto, 400, 'invalid_body'))).to.deep.equal(['/data/x/__proto__']);
      expectProblem(await put('/me/analytics').set('x-test-user', 'a'), 400, 'invalid_body');
      const me = await request(app).get('/consent/me').set('x-test-user', 'a').expect(200);
      expect(me.body.states.analytics.state).to.equal('unset');
    });

    it('400 for bad POST batches and for a DELETE with a body', async () => {
      const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`r${String(i)}`, 'granted']));
      for (const sent of [{ decisions: {} }, { decisions: many }, { decisions: { analytics: 'yes' } }, { decisions: { analytics: { decision: 'granted', at: 1 } } }, { note: 'x' }]) {
        expectProblem(await request(app).post('/consent/me').set('x-test-user', 'a').send(sent), 400, 'invalid_body');
      }
      expectProblem(await request(app).delete('/consent/me/analytics').set('x-test-user', 'a').send({ decision: 'granted' }), 400, 'invalid_body');
      await request(app).delete('/consent/me/analytics').set('x-test-user', 'a').send({}).expect(200);
    });

    it('422 for an unknown id in a body comes before 409', async () => {
      const res = await request(app).post('/consent/me').set('x-test-user', 'a').send({ decisions: { nope: 'granted', analytics: { decision: 'granted', version: 9 } } });
      expect(expectProblem(res, 422, 'unknown_requirement').ids).to.deep.equal(['nope']);
      const stale = await request(app).post('/consent/me').set('x-test-user', 'a').send({ decisions: { analytics: { decision: 'granted', version: 9 } } });
      expectProblem(stale, 409, 'version_mismatch');
    });

    it('503 store_unavailable with Retry-After when the database is gone, without driver details', async () => {
      await t.knex.destroy();
      for (const res of [
        await request(app).get('/consent/me').set('x-test-user', 'z'),
        await put('/me/analytics').set('x-test-user', 'z').send({ decision: 'granted' }),
        await request(app).post('/consent/me').set('x-test-user', 'z').send({ decisions: { analytics: 'granted' } }),
        await request(app).get('/consent/me/history').set('x-test-user', 'z'),
      ]) {
        const body = expectProblem(res, 503, 'store_unavailable');
        expect(JSON.stringify(body)).not.to.match(/knex|pool|sqlite|pg|destroy/i);
      }
      expect(logger.errors.length).to.be.greaterThan(0);
    });
  });
}

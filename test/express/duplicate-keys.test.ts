import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { duplicateKeyPointer } from '../../lib/duplicate-keys';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';
import { sendRaw } from '../helpers/raw-body';

describe('duplicateKeyPointer', () => {
  it('names the first member whose key its object already has, by JSON Pointer', () => {
    expect(duplicateKeyPointer('{"decision":"denied","decision":"granted"}')).to.equal('/decision');
    expect(duplicateKeyPointer('{"decisions":{"a":"denied","b":"granted","a":"granted"}}')).to.equal('/decisions/a');
    expect(duplicateKeyPointer('{"decisions":{"a":"granted"},"decisions":{"b":"denied"}}')).to.equal('/decisions');
    expect(duplicateKeyPointer('{"x":[{"k":1},{"k":1,"k":2}]}')).to.equal('/x/1/k');
    expect(duplicateKeyPointer('[[], {"a/b~":1, "a/b~":2}]')).to.equal('/1/a~1b~0');
    // Keys compare as decoded.
    expect(duplicateKeyPointer('{"a":1,"\\u0061":2}')).to.equal('/a');
    expect(duplicateKeyPointer('{"q\\"":1,"q\\u0022":2}')).to.equal('/q"');
  });

  it('compares keys down to 12 levels (deeper bodies are refused by their shape anyway)', () => {
    const nested = (depth: number, inner: string): string => '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
    expect(duplicateKeyPointer(nested(11, '{"k":1,"k":2}'))).to.equal(`${'/a'.repeat(11)}/k`);
    expect(duplicateKeyPointer(nested(12, '{"k":1,"k":2}'))).to.equal(null);
    expect(duplicateKeyPointer(`{"x":${nested(20, '1')},"x":2}`)).to.equal('/x');
  });

  it('finds nothing where keys are distinct, also when strings look like structure', () => {
    for (const text of [
      '{}', '[]', '"a"', '1', 'null',
      '{"a":1,"b":{"a":1},"c":[{"a":1},{"a":1}]}',
      '{"a":"{\\"a\\":1,\\"a\\":2}","b":"[,,]","c":"\\\\","d":"}"}',
      '{"a":{"b":1},"b":{"b":1}}',
      '{"a":"x","A":"x","a ":"x"}',
      '[{"a":1},{"a":2}]',
    ]) {
      expect(duplicateKeyPointer(text), text).to.equal(null);
    }
  });

  it('agrees with JSON.parse on random objects with and without a repeated key', () => {
    const keys = ['a', 'b', 'c', 'a\\u0062', 'd\\"', '\\\\', 'é', '😀'];
    let seen = 0;
    // A fixed pseudo-random sequence (mulberry32), so that a failure repeats.
    let seed = 12345;
    const next = (bound: number): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % bound;
    };
    const texts = new Set<string>();
    for (let round = 0; round < 2000; round += 1) {
      const parts: string[] = [];
      const count = 1 + (round % 5);
      for (let i = 0; i < count; i += 1) parts.push(`"${keys[next(keys.length)] as string}":${String(i)}`);
      const text = `{"v":{${parts.join(',')}}}`;
      texts.add(text);
      const members = parts.map((p) => JSON.parse(`{${p}}`) as Record<string, number>).map((o) => Object.keys(o)[0] as string);
      const repeated = new Set(members).size !== members.length;
      if (repeated) seen += 1;
      expect(duplicateKeyPointer(text) !== null, text).to.equal(repeated);
    }
    expect(seen).to.be.greaterThan(100);
    expect(texts.size).to.be.greaterThan(1000);
  });
});

for (const backend of BACKENDS) {
  backend.describe(`a body that gives one key twice (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let app: Express;

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db);
      app = routerApp(t.consent);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    const send = (method: 'put' | 'post', path: string, raw: string) =>
      request(app)[method](`/consent${path}`).set('x-test-user', 'ada').type('json').send(raw);

    it('is refused with 400 invalid_body naming the member, and nothing is recorded', async () => {
      for (const [method, path, raw, pointer] of [
        ['put', '/me/analytics', '{"decision":"granted","decision":"denied"}', '/decision'],
        ['put', '/me/analytics', '{"decision":"denied","decision":"granted"}', '/decision'],
        ['post', '/me', '{"decisions":{"analytics":"denied","analytics":"granted"}}', '/decisions/analytics'],
        ['post', '/me', '{"decisions":{"analytics":"granted"},"decisions":{"partners":"denied"}}', '/decisions'],
        ['put', '/me/analytics', '{"decision":"granted","data":{"k":1,"k":2}}', '/data/k'],
      ] as const) {
        const body = expectProblem(await send(method, path, raw), 400, 'invalid_body');
        expect(body.errors, raw).to.deep.equal([{ pointer, detail: 'is given more than once' }]);
      }
      const history = await request(app).get('/consent/me/history').set('x-test-user', 'ada').expect(200);
      expect(history.body.events).to.deep.equal([]);
    });

    it('is refused after a byte order mark too, plain and compressed, which the parser reads past', async () => {
      const raw = '\ufeff{"decision":"denied","decision":"granted"}';
      const plain = sendRaw(request(app).put('/consent/me/analytics').set('x-test-user', 'ada').set('content-type', 'application/json'), Buffer.from(raw, 'utf8'));
      expect(expectProblem(await plain, 400, 'invalid_body').errors).to.deep.equal([{ pointer: '/decision', detail: 'is given more than once' }]);
      const gzipped = sendRaw(
        request(app).put('/consent/me/analytics').set('x-test-user', 'ada').set('content-type', 'application/json').set('content-encoding', 'gzip'),
        gzipSync(Buffer.from(raw, 'utf8')),
      );
      expect(expectProblem(await gzipped, 400, 'invalid_body').errors).to.deep.equal([{ pointer: '/decision', detail: 'is given more than once' }]);
      const once = sendRaw(request(app).put('/consent/me/analytics').set('x-test-user', 'ada').set('content-type', 'application/json'), Buffer.from('\ufeff{"decision":"denied"}', 'utf8'));
      expect((await once.expect(200)).body.state).to.equal('denied');
    });

    it('malformed JSON is still reported as such, and distinct keys are recorded', async () => {
      const body = expectProblem(await send('put', '/me/analytics', '{"decision":"granted","decision"'), 400, 'invalid_body');
      expect(body.errors).to.deep.equal([{ pointer: '', detail: 'malformed JSON' }]);
      await send('put', '/me/analytics', '{"decision":"granted","data":{"k":{"k":1},"j":[{"k":1},{"k":2}]}}').expect(200);
    });
  });
}

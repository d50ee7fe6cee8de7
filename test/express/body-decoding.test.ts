import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { BACKENDS, express4, memoryLogger, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';
import { sendRaw } from '../helpers/raw-body';

const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];

/** Every router route that reads a body, as [method, path]. */
const ROUTES = [
  ['get', '/requirements'], ['get', '/me'], ['put', '/me/analytics'], ['post', '/me'], ['delete', '/me/analytics'],
  ['get', '/me/history'], ['get', '/me/receipt'], ['get', '/me/export'], ['get', '/receipts/key'], ['get', '/openapi.json'],
  ['get', '/confirm/abc'], ['post', '/confirm/abc'],
  ['get', '/admin/subjects/ann'], ['get', '/admin/subjects/ann/history'], ['delete', '/admin/subjects/ann'],
  ['get', '/admin/events'], ['get', '/admin/export'], ['get', '/admin/verify'], ['get', '/admin/checkpoint'], ['get', '/admin/stats'],
] as const;

const PUT = '{"decision":"granted"}';
const JSON_TYPE = 'application/json';

for (const [name, lib] of [['Express 5', () => express], ['Express 4', express4]] as const) {
  describe(`request bodies that cannot be decoded (${name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let logger: ReturnType<typeof memoryLogger>;

    beforeEach(async () => {
      db = await sqlite.open();
      logger = memoryLogger();
      t = await testConsent(db, { admin: { authorize: headerAdmin }, logger });
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    const put = (type: string, headers: Record<string, string>, body: Buffer | string) => {
      const test = request(routerApp(t.consent, lib())).put('/consent/me/analytics').set('x-test-user', 'ann').set('content-type', type).set(headers);
      return sendRaw(test, body);
    };

    async function expectNothingWritten(): Promise<void> {
      expect((await t.consent.history('ann')).events).to.deep.equal([]);
      expect(logger.errors, 'nothing logged as an unexpected error').to.deep.equal([]);
    }

    it('answers 400 invalid_body to a body its Content-Encoding does not describe, on every route, whoever asks', async () => {
      const app = routerApp(t.consent, lib());
      for (const [method, path] of ROUTES) {
        for (const [coding, body] of [['gzip', PUT], ['deflate', PUT], ['gzip', gzipSync(PUT).subarray(0, 12)], ['deflate', deflateSync(PUT).subarray(0, 6)]] as const) {
          for (const who of [{}, { 'x-test-user': 'ann' }, { 'x-test-user': 'ann', ...ADMIN }]) {
            const test = request(app)[method](`/consent${path}`).set(who).set('content-type', JSON_TYPE).set('content-encoding', coding);
            const res = await sendRaw(test, body);
            const problem = expectProblem(res, 400, 'invalid_body');
            expect(problem.detail, `${method} ${path} ${coding}`).to.contain(coding);
          }
        }
      }
      await expectNothingWritten();
    });

    it('answers 415 to a Content-Encoding it does not read, naming the ones it does', async () => {
      for (const [coding, body] of [['br', brotliCompressSync(PUT)], ['compress', PUT], ['gzip, gzip', gzipSync(gzipSync(PUT))], ['x-garbage', PUT]] as const) {
        const res = await put(JSON_TYPE, { 'content-encoding': coding }, body);
        expectProblem(res, 415, 'unsupported_media_type');
        expect(res.headers['accept-encoding'], coding).to.equal('gzip, deflate');
      }
      await expectNothingWritten();
    });

    it('still reads gzip, deflate and identity bodies', async () => {
      expect((await put(JSON_TYPE, { 'content-encoding': 'gzip' }, gzipSync(PUT)).expect(200)).body.state).to.equal('granted');
      expect((await put(JSON_TYPE, { 'content-encoding': 'deflate' }, deflateSync('{"decision":"denied"}')).expect(200)).body.state).to.equal('denied');
      expect((await put(JSON_TYPE, { 'content-encoding': 'identity' }, PUT).expect(200)).body.state).to.equal('granted');
    });

    it('answers 413 to a small compressed body that inflates past 16 KiB', async () => {
      const bomb = gzipSync(JSON.stringify({ decision: 'granted', note: ' '.repeat(200_000) }));
      expect(bomb.length).to.be.below(16 * 1024);
      expectProblem(await put(JSON_TYPE, { 'content-encoding': 'gzip' }, bomb), 413, 'payload_too_large');
      await expectNothingWritten();
    });

    it('answers 400 to a JSON body that is not valid UTF-8, instead of storing U+FFFD', async () => {
      const broken = [
        Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
      ];
      for (const bytes of broken) {
        const body = Buffer.concat([Buffer.from('{"decision":"granted","note":"a'), bytes, Buffer.from('b"}')]);
        const problem = expectProblem(await put(JSON_TYPE, {}, body), 400, 'invalid_body');
        expect(problem.detail).to.contain('UTF-8');
        expectProblem(await put(JSON_TYPE, { 'content-encoding': 'gzip' }, gzipSync(body)), 400, 'invalid_body');
      }
      await expectNothingWritten();
    });

    it('accepts only UTF-8: any other charset is 415', async () => {
      const refused: Array<[string, Buffer]> = [
        ['application/json; charset=utf-16le', Buffer.from(PUT, 'utf16le')],
        ['application/json; charset=UTF-16', Buffer.from(PUT, 'utf16le')],
        ['application/json; charset=latin1', Buffer.from(PUT, 'latin1')],
        ['application/json; charset=iso-8859-1', Buffer.from(PUT, 'latin1')],
        ['application/json; charset=utf-7', Buffer.from(PUT)],
        ['application/json; charset=utf8x', Buffer.from(PUT)],
        ['application/json; charset=', Buffer.from(PUT)],
        ['application/json; charset', Buffer.from(PUT)],
        ['application/json; charset=utf-8; charset=utf-16le', Buffer.from(PUT)],
        ['application/json; charset="utf-8', Buffer.from(PUT)],
        ['application/json; =utf-8', Buffer.from(PUT)],
        ['application/json; a="b;charset=utf-8"; charset=utf-16le', Buffer.from(PUT, 'utf16le')],
      ];
      for (const [type, body] of refused) expectProblem(await put(type, {}, body), 415, 'unsupported_media_type');
      await expectNothingWritten();
      for (const type of ['application/json; charset=utf-8', 'application/json;charset=UTF-8', 'application/json; charset="utf-8"', 'application/json; a="b;c=d"; charset=utf-8', 'application/json;', 'Application/JSON ; Charset=utf-8']) {
        expect((await put(type, {}, PUT)).status, type).to.equal(200);
      }
    });

    it('answers the confirmation form the same way: 400 for a broken body, 415 for another charset or coding', async () => {
      const app = routerApp(t.consent, lib());
      const form = (type: string, headers: Record<string, string>, body: Buffer | string) =>
        sendRaw(request(app).post('/consent/confirm/abc').set('content-type', type).set(headers), body);
      expectProblem(await form('application/x-www-form-urlencoded', { 'content-encoding': 'gzip' }, 'a=b'), 400, 'invalid_body');
      expectProblem(await form('application/x-www-form-urlencoded', { 'content-encoding': 'br' }, brotliCompressSync('a=b')), 415, 'unsupported_media_type');
      expectProblem(await form('application/x-www-form-urlencoded; charset=utf-7', {}, 'a=b'), 415, 'unsupported_media_type');
      expectProblem(await form('application/x-www-form-urlencoded', {}, ''), 404, 'token_invalid');
      await expectNothingWritten();
    });
  });
}

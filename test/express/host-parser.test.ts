import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { BACKENDS, expressModule, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';
import { sendRaw } from '../helpers/raw-body';

BACKENDS[0]?.describe('router behind a host body parser', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;
  let app: Express;

  beforeEach(async () => {
    db = await (BACKENDS[0] as (typeof BACKENDS)[number]).open();
    t = await testConsent(db);
    const lib = expressModule();
    app = lib();
    // The host mounted its parsers globally, before the router (what SPEC §2 advises against).
    app.use(lib.json({ limit: '1mb' }), lib.urlencoded({ extended: true }), lib.text());
    app.use('/consent', t.consent.router());
  });
  afterEach(async () => {
    await t.close();
    await db.cleanup();
  });

  const as = { 'x-test-user': 'hp' };

  it('still accepts JSON bodies the host parsed', async () => {
    const res = await request(app).put('/consent/me/analytics').set(as).send({ decision: 'granted' }).expect(200);
    expect(res.body.state).to.equal('granted');
  });

  it('still answers 415 for bodies the host parsed as forms or text', async () => {
    expectProblem(await request(app).put('/consent/me/analytics').set(as).type('form').send('decision=granted'), 415, 'unsupported_media_type');
    expectProblem(await request(app).put('/consent/me/analytics').set(as).type('text').send('granted'), 415, 'unsupported_media_type');
  });

  it('still refuses a charset other than UTF-8 and a coding it does not read, though the host decoded them', async () => {
    const utf16 = sendRaw(request(app).put('/consent/me/analytics').set(as).set('content-type', 'application/json; charset=utf-16le'), Buffer.from('{"decision":"granted"}', 'utf16le'));
    expectProblem(await utf16, 415, 'unsupported_media_type');
    const gzipped = sendRaw(request(app).put('/consent/me/analytics').set(as).set('content-type', 'application/json').set('content-encoding', 'gzip'), gzipSync('{"decision":"granted"}'));
    expect((await gzipped.expect(200)).body.state).to.equal('granted');
    expect((await t.consent.history('hp')).events).to.have.length(1);
  });

  it('still answers 413 by Content-Length, and checks the shape', async () => {
    const big = JSON.stringify({ decision: 'granted', note: 'x'.repeat(20_000) });
    expectProblem(await request(app).put('/consent/me/analytics').set(as).type('json').send(big), 413, 'payload_too_large');
    expectProblem(await request(app).put('/consent/me/analytics').set(as).send({ decision: 'granted', extra: 1 }), 400, 'invalid_body');
    const me = await request(app).get('/consent/me').set(as).expect(200);
    expect(me.body.states.analytics.state).to.equal('unset');
  });

  it('answers a host-parsed value JSON cannot write out (a BigInt from a reviver) by the body rules, not 500', async () => {
    const lib = expressModule();
    const host = lib();
    host.use(lib.json({ reviver: (_key: string, value: unknown) => (typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : value) }));
    host.use('/consent', t.consent.router());
    const res = await request(host).put('/consent/me/analytics').set(as).send({ decision: 'granted', version: 1 });
    expect(expectProblem(res, 400, 'invalid_body').errors).to.deep.equal([{ pointer: '/version', detail: 'must be a positive integer' }]);
  });

  it('still answers 413 for a body over 16 KiB that no Content-Length announced (compressed, or in chunks)', async () => {
    const big = JSON.stringify({ decision: 'granted', note: 'x'.repeat(20_000) });
    const gzipped = gzipSync(big);
    expect(gzipped.length).to.be.below(1024);
    const compressed = sendRaw(request(app).put('/consent/me/analytics').set(as).set('content-type', 'application/json').set('content-encoding', 'gzip'), gzipped);
    expectProblem(await compressed, 413, 'payload_too_large');
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'PUT', path: '/consent/me/analytics', headers: { ...as, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => { body += chunk; });
          res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }); });
        });
        req.on('error', reject);
        for (let i = 0; i < big.length; i += 4096) req.write(big.slice(i, i + 4096));
        req.end();
      });
      expect(chunked.status).to.equal(413);
      expect(JSON.parse(chunked.body)).to.include({ code: 'payload_too_large' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect((await t.consent.history('hp')).events).to.deep.equal([]);
    // A compressed body within the limit is read as usual.
    const fits = JSON.stringify({ decision: 'granted', note: 'x'.repeat(400) });
    const gzippedFits = sendRaw(request(app).put('/consent/me/analytics').set(as).set('content-type', 'application/json').set('content-encoding', 'gzip'), gzipSync(fits));
    expect((await gzippedFits.expect(200)).body.state).to.equal('granted');
  });

  describe('a raw or text parser that kept the body as sent', () => {
    const hosts: Array<[string, () => Express]> = [
      ['express.raw({ type: "*/*" })', () => { const lib = expressModule(); const host = lib(); host.use(lib.raw({ type: '*/*' })); host.use('/consent', t.consent.router()); return host; }],
      ['express.text({ type: "application/json" })', () => { const lib = expressModule(); const host = lib(); host.use(lib.text({ type: 'application/json' })); host.use('/consent', t.consent.router()); return host; }],
    ];
    for (const [name, build] of hosts) {
      it(`reads it under the router's rules behind ${name}`, async () => {
        const host = build();
        expect((await request(host).put('/consent/me/analytics').set(as).send({ decision: 'granted' }).expect(200)).body.state).to.equal('granted');
        expect((await request(host).post('/consent/me').set(as).send({ decisions: { analytics: 'denied' } }).expect(200)).body.states.analytics.state).to.equal('denied');
        await request(host).delete('/consent/me/analytics').set(as).send({}).expect(200);
        const json = (body: string) => sendRaw(request(host).put('/consent/me/analytics').set(as).set('content-type', 'application/json'), body);
        expect(expectProblem(await json('{"decision":"denied","decision":"granted"}'), 400, 'invalid_body').errors).to.deep.equal([{ pointer: '/decision', detail: 'is given more than once' }]);
        expectProblem(await json('{"decision":'), 400, 'invalid_body');
        expectProblem(await json('"granted"'), 400, 'invalid_body');
        const big = JSON.stringify({ decision: 'granted', note: 'x'.repeat(20_000) });
        expectProblem(await sendRaw(request(host).put('/consent/me/analytics').set(as).set('content-type', 'application/json').set('content-encoding', 'gzip'), gzipSync(big)), 413, 'payload_too_large');
        expect((await t.consent.history('hp')).events.map((e) => e.action)).to.deep.equal(['deny', 'withdraw', 'grant']);
      });
    }

    it('refuses a confirmation form of more than 10 fields the raw parser kept, as the router alone does', async () => {
      const lib = expressModule();
      const host = lib();
      host.use(lib.raw({ type: '*/*' }));
      host.use('/consent', t.consent.router());
      const fields = Array.from({ length: 11 }, (_, i) => `f${String(i)}=x`).join('&');
      const alone = lib();
      alone.use('/consent', t.consent.router());
      for (const target of [alone, host]) {
        const res = await request(target).post('/consent/confirm/abcdefghijklmnopqrstuv').type('form').send(fields);
        expectProblem(res, 400, 'invalid_body');
      }
    });

    it('still refuses invalid UTF-8 the raw parser kept', async () => {
      const lib = expressModule();
      const host = lib();
      host.use(lib.raw({ type: '*/*' }));
      host.use('/consent', t.consent.router());
      const latin1 = Buffer.from('{"decision":"granted","note":"\u00e9"}', 'latin1');
      expectProblem(await sendRaw(request(host).put('/consent/me/analytics').set(as).set('content-type', 'application/json'), latin1), 400, 'invalid_body');
      expect((await t.consent.history('hp')).events).to.deep.equal([]);
    });
  });
});

import { Script } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { MemoryTracker, type Consent } from '../../lib/index';
import { createConsent } from '../../lib/index';
import { memoryLogger, REQUIREMENTS, routerApp, TEST_SECRET } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

describe('the browser client assets', () => {
  let consent: Consent;
  let app: Express;

  before(async () => {
    consent = createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, logger: memoryLogger() });
    consent.register(REQUIREMENTS);
    await consent.ready();
    app = routerApp(consent);
  });
  after(() => consent.close());

  for (const [path, type] of [['/consent/client.js', 'text/javascript; charset=utf-8'], ['/consent/client.css', 'text/css; charset=utf-8']] as const) {
    it(`serves ${path} with its type, a shared cache lifetime and an ETag that answers 304`, async () => {
      const res = await request(app).get(path).expect(200);
      expect(res.headers['content-type']).to.equal(type);
      expect(res.headers['cache-control']).to.equal('public, max-age=3600');
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers.etag).to.match(/^"[A-Za-z0-9_-]{22}"$/);
      expect(res.headers['set-cookie']).to.equal(undefined);
      const again = await request(app).get(path).set('If-None-Match', res.headers.etag as string).expect(304);
      expect(again.text).to.equal('');
      await request(app).get(path).set('If-None-Match', '"older"').expect(200);
      await request(app).head(path).expect(200);
    });

    it(`applies the body rules to ${path} as to every route`, async () => {
      expectProblem(await request(app).get(path).set('content-type', 'text/plain').send('x'), 415, 'unsupported_media_type');
      expectProblem(await request(app).get(path).send({ padding: 'x'.repeat(20_000) }), 413, 'payload_too_large');
      await request(app).get(path).send({}).expect(200);
    });
  }

  it('is small (at most 10 KB gzipped for both files), plain script and free of style attributes or eval', async () => {
    const js = (await request(app).get('/consent/client.js').buffer(true).expect(200)).text;
    const css = (await request(app).get('/consent/client.css').expect(200)).text;
    const sizes = { js: gzipSync(js, { level: 9 }).length, css: gzipSync(css, { level: 9 }).length };
    console.log(`      client.js ${String(js.length)} B (${String(sizes.js)} B gzipped), client.css ${String(css.length)} B (${String(sizes.css)} B gzipped)`);
    expect(sizes.js + sizes.css).to.be.at.most(10 * 1024);
    expect(() => new Script(js)).to.not.throw();
    // Nothing a strict Content-Security-Policy refuses, nothing that parses server text as HTML.
    // (Single style properties set through the CSSOM, the room kept for the banner, are not refused.)
    expect(js).to.not.match(/\beval\(|new Function|innerHTML|insertAdjacentHTML|\.style\s*=[^=]|cssText|setAttribute\('style'|document\.write/);
    expect(js).to.not.match(/\bimport\b|\brequire\(/);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await request(app).get('/consent/openapi.json').expect(200)).body as { paths: Record<string, unknown> };
    expect(doc.paths).to.include.keys('/client.js', '/client.css');
  });
});

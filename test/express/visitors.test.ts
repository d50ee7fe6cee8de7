import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { createConsent, type Consent, type ConsentOptions } from '../../lib/index';
import { BACKENDS, headerSubject, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { expressModule } from '../helpers/app';
import { expectProblem } from '../helpers/problem';
import { cookiePair, headerAdmin, setCookies, visitorApp, visitorIdOf } from '../helpers/visitor-app';

const T0 = Date.UTC(2025, 5, 1, 12);
const DAY = 86_400_000;
const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];

describe('visitors: the cookie, reads and writes (SQLite file)', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;
  let consent: Consent;
  let app: Express;
  let now = T0;

  const open = async (options: ConsentOptions = {}, configure?: (app: Express) => void) => {
    t = await testConsent(db, { visitors: {}, now: () => new Date(now), admin: { authorize: headerAdmin }, ...options });
    consent = t.consent;
    app = visitorApp(consent, configure);
  };
  // Events checked by verify(): everything stored, on every chain.
  const stored = async () => (await consent.verify()).checked;

  beforeEach(async () => {
    now = T0;
    db = await sqlite.open();
  });
  afterEach(async () => {
    await t.close();
    await db.cleanup();
  });

  it('sets an HttpOnly, SameSite=Lax cookie on the first write over loopback HTTP, and the visitor is recognised by it', async () => {
    await open();
    const put = await request(app).put('/consent/me/analytics').send({ decision: 'granted' }).expect(200);
    const [cookie] = setCookies(put);
    expect(cookie).to.match(/^consent_visitor=[A-Za-z0-9_-]{22}\.[0-9a-z]+\.[0-9a-f]{32}; Max-Age=34128000; Path=\/; HttpOnly; SameSite=Lax$/);
    const pair = cookiePair(put);
    const me = await request(app).get('/consent/me').set('Cookie', pair).expect(200);
    expect(me.body.states.analytics.state).to.equal('granted');
    expect(setCookies(me), 'a read never sets the cookie').to.deep.equal([]);
    expect((await consent.states(visitorIdOf(pair))).analytics?.state).to.equal('granted');
    await request(app).get('/track').set('Cookie', pair).expect(200, { tracked: true });
    // A later write renews the same visitor's cookie.
    now += DAY;
    const again = await request(app).post('/consent/me').set('Cookie', pair).send({ decisions: { ads: 'denied' } }).expect(200);
    expect(visitorIdOf(cookiePair(again))).to.equal(visitorIdOf(pair));
    expect(cookiePair(again)).to.not.equal(pair);
  });

  it('never sets the cookie, nor stores anything, on reads of a new visitor', async () => {
    await open();
    const me = await request(app).get('/consent/me').set('Sec-GPC', '1').expect(200);
    expect(me.body.pending).to.deep.equal(['analytics', 'newsletter', 'ads']);
    expect(me.body.states.ads).to.include({ state: 'unset', allowed: false });
    expect(me.body.states.fraud).to.include({ state: 'unset', allowed: false }, 'GPC applies to visitors');
    expect(me.body.gpc).to.deep.equal({ seen: true });
    for (const path of ['/consent/me/history', '/consent/me/receipt', '/consent/me/export', '/consent/requirements']) {
      const res = await request(app).get(path).expect(200);
      expect(setCookies(res), path).to.deep.equal([]);
    }
    expect((await request(app).get('/consent/me/history').expect(200)).body).to.deep.equal({ events: [], nextCursor: null });
    expectProblem(await request(app).get('/track'), 403, 'consent_required');
    await request(app).get('/fraud').expect(200, { checked: true });
    expectProblem(await request(app).get('/fraud').set('Sec-GPC', '1'), 403, 'consent_required');
    expect(await stored(), 'nothing was stored').to.equal(0);
  });

  it('uses a __Host- cookie with Secure over HTTPS behind a trusted proxy, and ignores the plain one there', async () => {
    await open({}, (a) => a.set('trust proxy', 'loopback'));
    const https = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.7', Host: 'shop.example' };
    const put = await request(app).put('/consent/me/analytics').set(https).send({ decision: 'granted' }).expect(200);
    const [cookie] = setCookies(put);
    expect(cookie).to.match(/^__Host-consent_visitor=[^;]+; Max-Age=34128000; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    expect(cookie).to.not.match(/Domain=/i);
    const pair = cookiePair(put);
    expect((await request(app).get('/consent/me').set(https).set('Cookie', pair).expect(200)).body.states.analytics.state).to.equal('granted');
    // The same value under the plain name is not accepted over HTTPS (a subdomain could set it).
    const plain = pair.replace('__Host-', '');
    expect((await request(app).get('/consent/me').set(https).set('Cookie', plain).expect(200)).body.states.analytics.state).to.equal('unset');
  });

  it('refuses a visitor over plain HTTP that is not loopback, and ignores X-Forwarded-Proto from an untrusted proxy', async () => {
    await open();
    const put = await request(app).put('/consent/me/analytics').set('Host', 'shop.example').send({ decision: 'granted' });
    const body = expectProblem(put, 401, 'no_subject');
    expect(body.detail).to.match(/HTTPS/);
    expect(setCookies(put)).to.deep.equal([]);
    const spoofed = await request(app).put('/consent/me/analytics').set('X-Forwarded-Proto', 'https').send({ decision: 'granted' }).expect(200);
    expect(setCookies(spoofed)[0], 'not trusted: plain loopback HTTP').to.match(/^consent_visitor=/);
    expect(await stored()).to.equal(1);
  });

  it('in production, warns once when it sets the cookie over plain loopback HTTP (a proxy on the same host not trusted)', async () => {
    const warnings: string[] = [];
    const receipts = { privateKey: generateKeyPairSync('ed25519').privateKey, controller: 'ACME' };
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await open({ secret: 'visitors-production-secret-0123456789abcdef', receipts, logger: { warn: (m: string) => void warnings.push(m), error() {} } });
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved;
    }
    const proxied = { Host: 'localhost:3000' };
    for (const id of ['analytics', 'ads']) await request(app).put(`/consent/me/${id}`).set(proxied).send({ decision: 'granted' }).expect(200);
    expect(warnings.filter((w) => /plain HTTP on loopback while NODE_ENV=production/.test(w))).to.have.length(1);
    expect(warnings.join('\n')).to.include("app.set('trust proxy', 'loopback')");
    // Trusted, with the forwarded scheme: the secure cookie, and nothing more to say.
    const trusted = visitorApp(consent, (a) => a.set('trust proxy', 'loopback'));
    const put = await request(trusted).put('/consent/me/analytics').set({ 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'shop.example' }).send({ decision: 'granted' }).expect(200);
    expect(setCookies(put)[0]).to.match(/^__Host-consent_visitor=.*; Secure;/);
  });

  it('does not warn about plain loopback HTTP outside production', async () => {
    const warnings: string[] = [];
    await open({ logger: { warn: (m: string) => void warnings.push(m), error() {} } });
    await request(app).put('/consent/me/analytics').send({ decision: 'granted' }).expect(200);
    expect(warnings.filter((w) => /plain HTTP/.test(w))).to.deep.equal([]);
  });

  it('follows trust proxy for forwarded requests: a remote client behind a plain-HTTP proxy is no visitor', async () => {
    await open({}, (a) => a.set('trust proxy', 'loopback'));
    const pair = cookiePair(await request(app).put('/consent/me/analytics').send({ decision: 'granted' }).expect(200));
    await request(app).get('/track').set('Cookie', pair).expect(200);
    for (const forwarded of [{ 'X-Forwarded-For': '203.0.113.7' }, { 'X-Forwarded-Host': 'shop.example' }]) {
      expectProblem(await request(app).get('/track').set(forwarded).set('Cookie', pair), 401, 'no_subject');
    }
    await request(app).get('/track').set('X-Forwarded-For', '127.0.0.1').set('Cookie', pair).expect(200);
  });

  it('takes a forged, malformed or expired cookie for a new visitor, never an error', async () => {
    await open();
    const pair = cookiePair(await request(app).put('/consent/me/analytics').send({ decision: 'granted' }).expect(200));
    const [name, value] = pair.split('=') as [string, string];
    const [id, issued, mac] = value.split('.') as [string, string, string];
    const otherId = `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;
    const forged = [
      `${name}=${otherId}.${issued}.${mac}`,
      `${name}=${id}.${(parseInt(issued, 36) + DAY).toString(36)}.${mac}`,
      `${name}=${id}.${issued}.${mac.replace(/^./, (c) => (c === '0' ? '1' : '0'))}`,
      `${name}=garbage`,
      `${name}=${'x'.repeat(5000)}`,
      `${name}=${id}`,
    ];
    for (const cookie of forged) {
      const me = await request(app).get('/consent/me').set('Cookie', cookie).expect(200);
      expect(me.body.states.analytics.state, cookie.slice(0, 80)).to.equal('unset');
      expectProblem(await request(app).get('/track').set('Cookie', cookie), 403, 'consent_required');
    }
    const fresh = await request(app).put('/consent/me/ads').set('Cookie', forged[0] as string).send({ decision: 'denied' }).expect(200);
    expect(visitorIdOf(cookiePair(fresh))).to.not.equal(visitorIdOf(pair));
    expect(visitorIdOf(cookiePair(fresh))).to.not.equal(`visitor:${otherId}`);
    // 395 days after it was last set, the cookie no longer counts.
    now += 395 * DAY;
    expect((await request(app).get('/consent/me').set('Cookie', pair).expect(200)).body.states.analytics.state).to.equal('unset');
    now -= 1;
    expect((await request(app).get('/consent/me').set('Cookie', pair).expect(200)).body.states.analytics.state).to.not.equal('unset');
  });

  it('finds its cookie among others by exact name, and a value checked once is never mistaken for a lookalike', async () => {
    await open();
    const pair = cookiePair(await request(app).put('/consent/me/analytics').send({ decision: 'granted' }).expect(200));
    const [name, value] = pair.split('=') as [string, string];
    for (const cookie of [pair, `a=1; ${pair}; b=2`, `a=1;${pair}`, `x${name}=junk; ${pair}`, `${name}=\t${value} ; c=3`]) {
      await request(app).get('/track').set('Cookie', cookie).expect(200, { tracked: true });
    }
    // Checked and remembered above: values that share its end but not its id or time are forged.
    const [id, issued, mac] = value.split('.') as [string, string, string];
    const lookalikes = [
      `${name}=${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}.${issued}.${mac}`,
      `${name}=${id}.${(parseInt(issued, 36) - 1).toString(36)}.${mac}`,
      `${name}=${value.slice(1)}`,
      `x${name}=${value}`,
      `${name}x=${value}`,
      // Inside another cookie's value (a sibling subdomain may set `planted` for the parent domain).
      `planted=x ${name}=${value}`,
      `planted=x\t${name}=${value}; other=1`,
    ];
    for (const cookie of lookalikes) {
      expectProblem(await request(app).get('/track').set('Cookie', cookie), 403, 'consent_required');
      expect((await request(app).get('/consent/me').set('Cookie', cookie).expect(200)).body.states.analytics.state, cookie).to.equal('unset');
    }
    await request(app).get('/track').set('Cookie', pair).expect(200);
    // Planted ahead of the visitor's own cookie, it does not take the visitor's place.
    const planted = cookiePair(await request(app).put('/consent/me/ads').send({ decision: 'granted' }).expect(200));
    const me = await request(app).get('/consent/me').set('Cookie', `planted=x ${planted}; ${pair}`).expect(200);
    expect(me.body.states.analytics.state).to.equal('granted');
    expect(me.body.states.ads.state).to.equal('unset');
  });

  it('keeps visitors and subjects apart: no hook may return a visitor id, and a subject never reads the cookie', async () => {
    await open();
    const pair = cookiePair(await request(app).put('/consent/me/analytics').send({ decision: 'granted' }).expect(200));
    const visitorId = visitorIdOf(pair);
    const hooked = await request(app).get('/consent/me').set('x-test-user', visitorId);
    expectProblem(hooked, 500, 'internal_error');
    expect(hooked.text).to.not.contain(visitorId.slice(8));
    expectProblem(await request(app).get('/track').set('x-test-user', visitorId), 500, 'internal_error');
    const signedIn = await request(app).get('/consent/me').set('x-test-user', 'ann').set('Cookie', pair).expect(200);
    expect(signedIn.body.states.analytics.state, 'the signed-in subject is not the visitor').to.equal('unset');
    const write = await request(app).put('/consent/me/ads').set('x-test-user', 'ann').set('Cookie', pair).send({ decision: 'denied' }).expect(200);
    expect(setCookies(write), 'a subject gets no visitor cookie').to.deep.equal([]);
    expect((await consent.states(visitorId)).ads?.state).to.equal('unset');
    expect(await stored()).to.equal(2);
  });

  it('records a visitor\'s GPC signal on their chain once they have one, and a grant sent with it stands', async () => {
    await open();
    const pair = cookiePair(await request(app).put('/consent/me/analytics').send({ decision: 'granted' }).expect(200));
    const me = await request(app).get('/consent/me').set('Cookie', pair).set('Sec-GPC', '1').expect(200);
    expect(me.body.states.ads).to.include({ state: 'denied', allowed: false });
    const history = await consent.history(visitorIdOf(pair));
    expect(history.events.filter((e) => e.source === 'gpc').map((e) => e.requirement).sort()).to.deep.equal(['ads', 'fraud']);
    const optIn = await request(app).put('/consent/me/ads').set('Cookie', pair).set('Sec-GPC', '1').send({ decision: 'granted' }).expect(200);
    expect(optIn.body).to.include({ state: 'granted', allowed: true });
  });

  it('collect().commit() without a subject records for the visitor and sets the cookie', async () => {
    await open();
    const res = await request(app).post('/newsletter').type('form').send('consent[analytics]=on').expect(201);
    expect(res.body.states.analytics.state).to.equal('granted');
    const pair = cookiePair(res);
    const events = (await consent.history(visitorIdOf(pair))).events;
    expect(events.map((e) => [e.requirement, e.action, e.source])).to.deep.equal([['ads', 'deny', 'form'], ['analytics', 'grant', 'form']]);
    // The same visitor again: their chain grows, no other is started.
    const again = await request(app).post('/newsletter').type('form').set('Cookie', pair).send('consent[ads]=on').expect(201);
    expect(visitorIdOf(cookiePair(again))).to.equal(visitorIdOf(pair));
    expect((await consent.history(visitorIdOf(pair))).events).to.have.length(4);
    expect(await stored()).to.equal(4);
  });

  it('leaves everything as before with visitors off (the default)', async () => {
    await open({ visitors: false });
    expectProblem(await request(app).get('/consent/me'), 401, 'no_subject');
    const put = await request(app).put('/consent/me/analytics').send({ decision: 'granted' });
    expectProblem(put, 401, 'no_subject');
    expect(setCookies(put)).to.deep.equal([]);
    expectProblem(await request(app).get('/track'), 401, 'no_subject');
    await request(app).post('/sign-in').set('x-sign-in', 'ann').expect(200, { visitorId: null, linked: [] });
  });
});

describe('visitors: cross-site writes (SQLite file)', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;
  let app: Express;

  beforeEach(async () => {
    db = await sqlite.open();
    t = await testConsent(db, { visitors: {}, admin: { authorize: headerAdmin }, subject: headerSubject });
    app = visitorApp(t.consent);
  });
  afterEach(async () => {
    await t.close();
    await db.cleanup();
  });

  it('answers 403 forbidden to a state-changing request from another site, before the body, and records nothing', async () => {
    const refused: Array<Record<string, string>> = [
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'same-site' },
      { 'Sec-Fetch-Site': 'cross-site', Origin: 'http://127.0.0.1' },
      { Origin: 'https://evil.example' },
      { Origin: 'null' },
      { Origin: 'not a url' },
    ];
    for (const headers of refused) {
      const put = await request(app).put('/consent/me/analytics').set(headers).set('x-test-user', 'ann').type('text/plain').send('{"decision":"granted"}');
      expectProblem(put, 403, 'forbidden', '/consent/me/analytics');
      expectProblem(await request(app).post('/consent/me').set(headers).send({ decisions: { analytics: 'granted' } }), 403, 'forbidden');
      expectProblem(await request(app).delete('/consent/me/analytics').set(headers).set('x-test-user', 'ann'), 403, 'forbidden');
      expectProblem(await request(app).delete('/consent/admin/subjects/ann').set(headers).set('x-admin', 'yes'), 403, 'forbidden');
      expectProblem(await request(app).post('/consent/confirm/abc').set(headers), 403, 'forbidden');
    }
    expect((await t.consent.verify()).checked).to.equal(0);
  });

  it('lets same-origin requests, user-started navigations, requests without either header, and reads through', async () => {
    const put = (headers: Record<string, string>) =>
      request(app).put('/consent/me/analytics').set(headers).set('x-test-user', 'ann').send({ decision: 'granted' });
    await put({ 'Sec-Fetch-Site': 'same-origin' }).expect(200);
    await put({ 'Sec-Fetch-Site': 'none' }).expect(200);
    await put({}).expect(200);
    const server = app.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const address = server.address();
      const host = `127.0.0.1:${String(typeof address === 'object' && address ? address.port : 0)}`;
      const res = await fetch(`http://${host}/consent/me/analytics`, {
        method: 'PUT',
        headers: { Origin: `http://${host}`, 'Content-Type': 'application/json', 'x-test-user': 'ann' },
        body: JSON.stringify({ decision: 'denied' }),
      });
      expect(res.status).to.equal(200);
      // The same host and port under another scheme is another origin.
      const https = await fetch(`http://${host}/consent/me/analytics`, {
        method: 'PUT',
        headers: { Origin: `https://${host}`, 'Content-Type': 'application/json', 'x-test-user': 'ann' },
        body: JSON.stringify({ decision: 'granted' }),
      });
      expect(https.status).to.equal(403);
      expect(((await https.json()) as { code: string }).code).to.equal('forbidden');
    } finally {
      server.closeAllConnections();
      server.close();
    }
    await request(app).get('/consent/me').set('Sec-Fetch-Site', 'cross-site').set('x-test-user', 'ann').expect(200);
    await request(app).get('/consent/requirements').set('Origin', 'https://evil.example').expect(200);
  });

  it("mounted at /, refuses cross-site writes to its own paths only, not to the host's routes after it", async () => {
    const lib = expressModule();
    const root = lib();
    root.use(t.consent.router());
    // An identity provider's form_post callback, a partner's CORS call: the host decides.
    root.post('/auth/callback', (_req, res) => { res.send('signed in'); });
    root.put('/api/items/1', (_req, res) => { res.send('saved'); });
    root.use((_req, res) => { res.status(404).send('host 404'); });
    const cross = { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://idp.example' };
    expect((await request(root).post('/auth/callback').set(cross).expect(200)).text).to.equal('signed in');
    expect((await request(root).put('/api/items/1').set({ Origin: 'https://partner.example' }).expect(200)).text).to.equal('saved');
    expect((await request(root).post('/nowhere').set(cross).expect(404)).text).to.equal('host 404');
    expectProblem(await request(root).put('/me/analytics').set(cross).set('x-test-user', 'ann').send({ decision: 'granted' }), 403, 'forbidden');
    expectProblem(await request(root).put('/ME/analytics').set(cross).set('x-test-user', 'ann').send({ decision: 'granted' }), 403, 'forbidden');
    expectProblem(await request(root).post('/me').set(cross).set('x-test-user', 'ann').send({ decisions: { analytics: 'granted' } }), 403, 'forbidden');
    expectProblem(await request(root).delete('/admin/subjects/ann').set(cross).set('x-admin', 'yes'), 403, 'forbidden');
    expectProblem(await request(root).post('/confirm/abc').set(cross), 403, 'forbidden');
    expect((await t.consent.verify()).checked).to.equal(0);
  });

  it('lets the trustedOrigins write from another site, and no other origin', async () => {
    const trusting = await testConsent(db, { visitors: {}, subject: headerSubject, trustedOrigins: ['https://app.example.com', 'http://localhost:5173'] });
    try {
      const front = visitorApp(trusting.consent);
      const put = (headers: Record<string, string>) =>
        request(front).put('/consent/me/analytics').set(headers).set('x-test-user', 'ann').send({ decision: 'granted' });
      await put({ 'Sec-Fetch-Site': 'same-site', Origin: 'https://app.example.com' }).expect(200);
      await put({ 'Sec-Fetch-Site': 'cross-site', Origin: 'HTTP://LOCALHOST:5173' }).expect(200);
      await put({ Origin: 'https://app.example.com' }).expect(200);
      const others: Array<Record<string, string>> = [
        { 'Sec-Fetch-Site': 'same-site', Origin: 'https://evil.example.com' },
        { 'Sec-Fetch-Site': 'same-site' },
        { Origin: 'https://app.example.com:8443' },
        { 'Sec-Fetch-Site': 'cross-site', Origin: 'http://app.example.com' },
      ];
      for (const headers of others) {
        expectProblem(await put(headers), 403, 'forbidden');
      }
    } finally {
      await trusting.close();
    }
    expect(createConsent({ secret: 's'.repeat(32), trustedOrigins: ['https://App.example.com/'] }).engine.options.trustedOrigins).to.deep.equal(new Set(['https://app.example.com']));
    for (const origins of [['https://app.example.com/path'], ['javascript:alert(1)'], ['*'], 'https://app.example.com', [1]]) {
      expect(() => createConsent({ secret: 's'.repeat(32), trustedOrigins: origins as never }), JSON.stringify(origins)).to.throw(/trustedOrigins/);
    }
  });
});

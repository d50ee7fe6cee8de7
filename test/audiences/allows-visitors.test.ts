import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import { ConsentError, type Consent } from '../../lib/index';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { cookiePair, setCookies, visitorApp, visitorIdOf } from '../helpers/visitor-app';

const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];

/** The visitor app, with `GET /allows/<ids>` answering what `allows(req, ids)` resolved to (or rejected with). */
function app(consent: Consent): Express {
  return visitorApp(consent, (host) => {
    host.get('/allows/:ids', (req, res) => {
      consent.allows(req, req.params.ids.split(',')).then(
        (allowed) => { res.json({ allowed }); },
        (error: unknown) => { res.json({ rejected: error instanceof ConsentError ? error.code : String(error) }); },
      );
    });
  });
}

describe('consent.allows(req) and audiences with visitors (SQLite file)', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;
  let consent: Consent;
  let host: Express;

  beforeEach(async () => {
    db = await sqlite.open();
    t = await testConsent(db, { visitors: {} });
    consent = t.consent;
    host = app(consent);
  });
  afterEach(async () => {
    await t.close();
    await db.cleanup();
  });

  const allows = async (ids: string, headers: Record<string, string> = {}): Promise<unknown> =>
    (await request(host).get(`/allows/${ids}`).set(headers).expect(200)).body;

  it('judges a visitor by their cookie, like the guard, and a new visitor as having decided nothing', async () => {
    const fresh = await request(host).get('/allows/analytics').expect(200);
    expect(fresh.body).to.deep.equal({ allowed: false });
    expect(setCookies(fresh), 'a check never sets the cookie').to.deep.equal([]);
    expect(await allows('fraud')).to.deep.equal({ allowed: true });
    expect(await allows('fraud', { 'Sec-GPC': '1' })).to.deep.equal({ allowed: false });

    const pair = cookiePair(await request(host).put('/consent/me/analytics').send({ decision: 'granted' }).expect(200));
    expect(await allows('analytics', { Cookie: pair })).to.deep.equal({ allowed: true });
    await request(host).get('/track').set('Cookie', pair).expect(200);
    expect(await allows('analytics,ads', { Cookie: pair })).to.deep.equal({ allowed: false });
    // A cookie that does not verify names nobody: a new visitor, who decided nothing.
    const forged = pair.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    expect(await allows('analytics', { Cookie: forged })).to.deep.equal({ allowed: false });
    // A signed-in subject is judged as such, cookie or not.
    expect(await allows('analytics', { Cookie: pair, 'x-test-user': 'ann' })).to.deep.equal({ allowed: false });
  });

  it('never lists a visitor in an audience (the host has nobody to contact), but filterAllowed() judges a visitor id', async () => {
    const pair = cookiePair(await request(host).put('/consent/me/analytics').send({ decision: 'granted' }).expect(200));
    await consent.record('ann', { analytics: 'granted' });
    const listed: string[] = [];
    const audience = consent.audience('analytics');
    for await (const id of audience) listed.push(id);
    expect(listed).to.deep.equal(['ann']);
    expect(audience.summary).to.deep.equal({ listed: 1, skipped: 0, unreadable: 0, done: true });
    const allowed: string[] = [];
    for await (const id of consent.filterAllowed([visitorIdOf(pair), 'bob'], 'analytics')) allowed.push(id);
    expect(allowed).to.deep.equal([visitorIdOf(pair)]);
  });
});

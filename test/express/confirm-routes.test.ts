import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { tempSqliteFile } from '../helpers/databases';
import { allStoredRecords } from '../helpers/records';
import { confirmApp, EXPRESS, openLab, START, TTL, type Lab } from './confirm-app';

const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
// Until then a repeated request re-uses the pending one (the default confirm.resendAfterMs).
const RESEND_AFTER = 600_000;

/** What a person reads on a page: its text, without the markup and the style sheet. */
const words = (page: string) => page.replace(/<style>[^]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ');

for (const [label, lib] of Object.entries(EXPRESS)) {
  describe(`double opt-in through HTTP (${label})`, () => {
    let file: ReturnType<typeof tempSqliteFile>;
    let lab: Lab;
    const app = () => confirmApp(lib, lab.consent);

    async function ask(subject: string): Promise<string> {
      const before = lab.links.length;
      const result = await lab.consent.record(subject, { newsletter: 'granted' });
      expect(result.states.newsletter).to.include({ state: 'pending', allowed: false });
      expect(lab.links).to.have.length(before + 1);
      return lab.links[lab.links.length - 1]!.token;
    }

    const actions = async (subject: string) => (await lab.consent.history(subject)).events.map((e) => `${e.action}/${e.source}/${e.state}`);

    beforeEach(async () => {
      file = tempSqliteFile();
      lab = await openLab(file.filename);
    });

    afterEach(async () => {
      await lab.close();
      file.remove();
    });

    it('shows without confirming (JSON and HTML), then confirms once by POST; reuse is token_invalid', async () => {
      const token = await ask('alice');
      const shown = await request(app()).get(`/consent/confirm/${token}`).expect(200);
      expect(shown.headers['referrer-policy']).to.equal('no-referrer');
      expect(shown.body.expiresAt).to.equal(new Date(START + TTL).toISOString());
      expect(shown.body.requirement).to.include({ id: 'newsletter', version: 1, title: 'Newsletter', doubleOptIn: true });

      const page = await request(app()).get(`/consent/confirm/${token}`).set('Accept', 'text/html,application/xhtml+xml').expect(200);
      expect(page.headers['content-type']).to.match(/^text\/html/);
      expect(page.headers['referrer-policy']).to.equal('no-referrer');
      // Framed by no site, also for a browser that knows no frame-ancestors.
      expect(page.headers['x-frame-options']).to.equal('DENY');
      expect(page.text).to.include('<html lang="en">').and.include('A monthly email &lt;b&gt;about&lt;/b&gt; us.');
      expect(page.text).to.include(`<form method="post" action="/consent/confirm/${token}">`).and.include('<button type="submit">');
      // Scanners and prefetchers opened the link twice: still pending, nothing recorded.
      expect((await lab.consent.states('alice')).newsletter!.state).to.equal('pending');
      expect(await actions('alice')).to.deep.equal(['request/app/pending']);

      // What the page's form sends: an empty urlencoded body.
      const confirmed = await request(app()).post(`/consent/confirm/${token}`).type('form').send('').expect(200);
      expect(confirmed.headers['referrer-policy']).to.equal('no-referrer');
      expect(confirmed.body).to.include({ id: 'newsletter', state: 'granted', allowed: true, version: 1 });
      expect(await actions('alice')).to.deep.equal(['confirm/confirm/granted', 'request/app/pending']);
      const change = lab.changes.find((c) => c.action === 'confirm');
      expect(change).to.include({ subjectId: 'alice', requirement: 'newsletter', source: 'confirm', previous: 'pending', state: 'granted' });

      const reused = await request(app()).post(`/consent/confirm/${token}`).expect(404);
      expect(reused.body.code).to.equal('token_invalid');
      expect((await request(app()).get(`/consent/confirm/${token}`).expect(404)).body.code).to.equal('token_invalid');
      expect(await actions('alice')).to.have.length(2);
    });

    it('refuses a body with any field (JSON or form) with 400 invalid_body, confirming nothing; a bad token is still 404 first', async () => {
      const token = await ask('dora');
      // The router's own body parsing (JSON, or the page's urlencoded form).
      const routed = lib();
      routed.use('/consent', lab.consent.router());
      const post = () => request(routed).post(`/consent/confirm/${token}`);
      for (const refused of [
        await post().send({ decision: 'denied' }),
        await post().send({ bogus: 1 }),
        await post().type('form').send('decision=denied'),
        await post().send([]),
      ]) {
        expect([refused.status, refused.body.code]).to.deep.equal([400, 'invalid_body']);
      }
      expect(await actions('dora'), 'nothing recorded').to.deep.equal(['request/app/pending']);
      expect((await request(routed).post('/consent/confirm/nonsense').send({ decision: 'denied' })).status).to.equal(404);
      // No body, an empty JSON object or an empty form confirm.
      await post().send({}).expect(200);
      expect(await actions('dora')).to.deep.equal(['confirm/confirm/granted', 'request/app/pending']);
    });

    it('of ten concurrent confirmations exactly one succeeds', async () => {
      const token = await ask('jo');
      const answers = await Promise.all(Array.from({ length: 10 }, () => request(app()).post(`/consent/confirm/${token}`)));
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, ...Array(9).fill(404)]);
      expect(await actions('jo')).to.deep.equal(['confirm/confirm/granted', 'request/app/pending']);
    });

    it('answers an HTML client with pages; a used link says the confirmation went through', async () => {
      const token = await ask('hana');
      const done = await request(app()).post(`/consent/confirm/${token}`).set('Accept', 'text/html').type('form').send('').expect(200);
      expect(done.text).to.include('your consent is confirmed').and.include('Your consent to “Newsletter” is now in effect.');
      for (const method of ['get', 'post'] as const) {
        const again = await request(app())[method](`/consent/confirm/${token}`).set('Accept', 'text/html').expect(404);
        expect(again.headers['content-type']).to.match(/^text\/html/);
        expect(again.text).to.include('<h1>You have already confirmed</h1>').and.include('Your confirmation went through').and.include('<li>Newsletter</li>');
        expect(words(again.text)).not.to.match(/Status|404|token/i);
        // Programs still get the problem.
        expect((await request(app())[method](`/consent/confirm/${token}`).expect(404)).body.code).to.equal('token_invalid');
      }
      expect(await actions('hana')).to.have.length(2);
    });

    it('tells a person in plain words why a link does not work, never with a status or a code', async () => {
      const page = (token: string, status: number) => request(app()).get(`/consent/confirm/${token}`).set('Accept', 'text/html').expect(status);
      // Replaced by a newer link that still waits: not "already confirmed".
      const first = await ask('ines');
      lab.clock.ms += RESEND_AFTER;
      await ask('ines');
      const replaced = await page(first, 404);
      expect(replaced.text).to.include('<h1>This link no longer works</h1>').and.include('use the link in the newest email');
      // A link this library never issued.
      expect((await page('x'.repeat(80), 404)).text).to.include('<h1>This link no longer works</h1>');
      const expiring = await ask('jon');
      lab.clock.ms += TTL + 1;
      const expired = await page(expiring, 410);
      expect(expired.text).to.include('<h1>This link has expired</h1>').and.include('we will send you a new link');
      for (const text of [replaced.text, expired.text]) expect(words(text)).not.to.match(/Status|404|410|token_/i);
    });

    it('refuses an expired token with 410 token_expired; the state falls back', async () => {
      await lab.consent.record('bob', { newsletter: 'denied' });
      const token = await ask('bob');
      lab.clock.ms = START + TTL;
      expect((await request(app()).get(`/consent/confirm/${token}`).expect(410)).body.code).to.equal('token_expired');
      expect((await request(app()).post(`/consent/confirm/${token}`).expect(410)).body.code).to.equal('token_expired');
      // The body's shape is checked before the link's state (SPEC order: 404, 400, then 409).
      expect((await request(app()).post(`/consent/confirm/${token}`).type('form').send('decision=granted').expect(400)).body.code).to.equal('invalid_body');
      expect((await lab.consent.states('bob')).newsletter!.state).to.equal('denied');
      lab.clock.ms = START + TTL - 1;
      await request(app()).post(`/consent/confirm/${token}`).expect(200);
    });

    it('a newer request supersedes the older token (404), which then confirms nothing', async () => {
      const first = await ask('carol');
      lab.clock.ms += RESEND_AFTER;
      const second = await ask('carol');
      expect(second).to.not.equal(first);
      expect((await request(app()).post(`/consent/confirm/${first}`).expect(404)).body.code).to.equal('token_invalid');
      expect((await lab.consent.states('carol')).newsletter!.state).to.equal('pending');
      await request(app()).post(`/consent/confirm/${second}`).expect(200);
    });

    it('a later denial cancels the token (404)', async () => {
      const token = await ask('dave');
      await lab.consent.record('dave', { newsletter: 'denied' });
      expect((await request(app()).post(`/consent/confirm/${token}`).expect(404)).body.code).to.equal('token_invalid');
      expect((await lab.consent.states('dave')).newsletter!.state).to.equal('denied');
    });

    it('a token for an old version is 409 version_mismatch', async () => {
      const token = await ask('erin');
      await lab.close();
      lab = await openLab(file.filename, { version: 2 });
      expect((await request(app()).get(`/consent/confirm/${token}`).expect(409)).body.code).to.equal('version_mismatch');
      expect((await request(app()).post(`/consent/confirm/${token}`).expect(409)).body.code).to.equal('version_mismatch');
      expect((await request(app()).post(`/consent/confirm/${token}`).type('form').send('decision=granted').expect(400)).body.code).to.equal('invalid_body');
      // A request for a text that is no longer current falls back to the state before it.
      expect((await lab.consent.states('erin')).newsletter!.state).to.equal('unset');
      expect(await lab.consent.pending('erin')).to.deep.equal(['newsletter', 'analytics']);
    });

    it('unknown, forged and malformed tokens are 404 token_invalid', async () => {
      await ask('fay');
      for (const token of [randomBytes(32).toString('base64url'), randomBytes(90).toString('base64url'), 'short', '%2e%2e']) {
        expect((await request(app()).get(`/consent/confirm/${token}`).expect(404)).body.code, token).to.equal('token_invalid');
        expect((await request(app()).post(`/consent/confirm/${token}`).expect(404)).body.code, token).to.equal('token_invalid');
      }
    });

    it('links use the mount path seen by the router, never the Host header', async () => {
      const before = await ask('gus');
      expect(lab.links.at(-1)!.url).to.equal(`/confirm/${before}`);
      // Made before the router knew its mount path: said once, with what to set.
      expect(lab.warnings.filter((w) => /confirmation link/.test(w))).to.have.length(1);
      expect(lab.warnings.join('\n')).to.include('confirm.baseUrl');
      await request(app()).get(`/consent/confirm/${before}`).set('Host', 'evil.example').expect(200);
      lab.clock.ms += RESEND_AFTER;
      const after = await ask('gus');
      const link = lab.links.at(-1)!;
      expect(link.url).to.equal(`/consent/confirm/${after}`);
      expect(lab.warnings.filter((w) => /confirmation link/.test(w))).to.have.length(1);
      expect(link).to.include({ subjectId: 'gus', requirement: 'newsletter', version: 1, expiresAt: new Date(START + RESEND_AFTER + TTL).toISOString() });
      expect(tokenOf(link.url)).to.equal(link.token);
    });
  });
}

describe('confirmation links with confirm.baseUrl', () => {
  it('start with the configured base URL', async () => {
    const file = tempSqliteFile();
    const lab = await openLab(file.filename, { baseUrl: 'https://example.com/account/consent/' });
    try {
      await lab.consent.record('ivy', { newsletter: 'granted' });
      const link = lab.links[0]!;
      expect(link.url).to.equal(`https://example.com/account/consent/confirm/${link.token}`);
      // At least 128 bits of randomness: every token differs, even for the same subject.
      lab.clock.ms += RESEND_AFTER;
      await lab.consent.record('ivy', { newsletter: 'granted' });
      expect(lab.links[1]!.token).to.not.equal(link.token);
      // What the store keeps of the pending request: its record (in the subject row), the token's hash.
      const records = await allStoredRecords(lab.knex);
      expect(records.filter((r) => r.pendingToken !== null)).to.have.length(1);
      const hashes = records.flatMap((r) => (r.pendingToken === null ? [] : [r.pendingToken, Buffer.from(r.pendingToken, 'hex').toString('base64url')]));
      const stored = JSON.stringify({ records, hashes });
      expect(stored).to.not.include(link.token).and.not.include(lab.links[1]!.token);
      expect(lab.warnings.filter((w) => /confirmation link/.test(w))).to.deep.equal([]);
    } finally {
      await lab.close();
      file.remove();
    }
  });
});

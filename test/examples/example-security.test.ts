import { expect } from 'chai';
import request from 'supertest';
import { createExampleApp, type ExampleApp } from '../../examples/app/create-app';
import { tempSqliteFile } from '../helpers/databases';

const quiet = { warn: () => {}, error: () => {} };

function csrfOf(html: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
}

describe('example app: CSRF, sessions and escaping', () => {
  const db = tempSqliteFile();
  let example: ExampleApp;

  before(async () => {
    example = await createExampleApp({ databaseFile: db.filename, secret: 's'.repeat(32), logger: quiet });
  });
  after(async () => {
    await example.close();
    db.cleanup();
  });

  async function visitor() {
    const agent = request.agent(example.app);
    const token = csrfOf((await agent.get('/sign-up').expect(200)).text);
    return { agent, token };
  }

  const form = (token: string, email: string) => ({ _csrf: token, email, password: 'long enough password', 'consent[terms]': 'on' });

  it('refuses a sign-up without the session token or from another origin, and creates nothing', async () => {
    const { agent, token } = await visitor();
    await agent.post('/sign-up').type('form').send({ ...form(token, 'a@example.com'), _csrf: 'forged' }).expect(403);
    await agent.post('/sign-up').set('Origin', 'https://evil.example').type('form').send(form(token, 'a@example.com')).expect(403);
    await agent.post('/sign-in').type('form').send({ _csrf: token, email: 'a@example.com', password: 'long enough password' }).expect(401);
    await agent.post('/sign-up').type('form').send(form(token, 'a@example.com')).expect(303).expect('Location', '/preferences?welcome=1');
  });

  it('rotates the token at sign-in and refuses a decision sent with the old one', async () => {
    const { agent, token } = await visitor();
    await agent.post('/sign-up').type('form').send(form(token, 'b@example.com')).expect(303);
    const page = await agent.get('/preferences').expect(200);
    expect(csrfOf(page.text)).not.to.equal(token);
    await agent.post('/preferences/analytics').type('form').send({ _csrf: token, decision: 'granted', version: '1' }).expect(403);
    await agent.post('/preferences/analytics').type('form').send({ _csrf: csrfOf(page.text), decision: 'granted', version: '1' }).expect(303);
    expect((await agent.get('/consent/me').expect(200)).body.states.analytics.state).to.equal('granted');
  });

  it('lets no cache keep a personal page (Back after signing out shows none), while static files stay cacheable', async () => {
    const { agent, token } = await visitor();
    await agent.post('/sign-up').type('form').send(form(token, 'cached@example.com')).expect(303);
    for (const path of ['/', '/preferences', '/dev/mailbox', '/insights', '/sign-up']) {
      const res = await agent.get(path);
      expect(res.headers['cache-control'], path).to.equal('no-store');
    }
    expect((await agent.get('/static/style.css').expect(200)).headers['cache-control']).to.not.include('no-store');
  });

    it('treats a tampered session cookie as no session', async () => {
    const { agent, token } = await visitor();
    const signedUp = await agent.post('/sign-up').type('form').send(form(token, 'c@example.com')).expect(303);
    const cookie = (signedUp.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    const [name, value] = cookie.split('=') as [string, string];
    const [payload, mac] = value.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), userId: 'someone-else' })).toString('base64url');
    await request(example.app).get('/preferences').set('Cookie', `${name}=${value}`).expect(200);
    await request(example.app).get('/preferences').set('Cookie', `${name}=${forged}.${mac}`).expect(303).expect('Location', '/sign-in?next=%2Fpreferences');
  });

  it('escapes what people type when a refused form is shown again', async () => {
    const { agent, token } = await visitor();
    const email = '"><script>alert(1)</script>@example.com';
    const res = await agent.post('/sign-up').type('form').send({ _csrf: token, email, password: 'long enough password' }).expect(422);
    expect(res.text).not.to.contain('<script>alert(1)</script>');
    expect(res.text).to.contain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@example.com"');
    expect(res.text).to.contain('To open an account, please accept the terms of service.');
  });

  it('reports every mistake of a sign-up at once: the fields and the terms', async () => {
    const { agent, token } = await visitor();
    const res = await agent.post('/sign-up').type('form').send({ _csrf: token, email: 'not an address', password: 'short' }).expect(400);
    for (const message of ['Enter an email address like name@example.com.', 'Choose a password of at least 8 characters.', 'To open an account, please accept the terms of service.']) {
      expect(res.text).to.contain(message);
    }
  });

  it('links and returns only to local paths: next= with a tab, newline or backslash is dropped', async () => {
    const { agent, token } = await visitor();
    await agent.post('/sign-up').type('form').send(form(token, 'e@example.com')).expect(303);
    for (const next of ['/%09/evil.example/x', '/%0A/evil.example/x', '/%0D/evil.example/x', '/%5Cevil.example', '/..//evil.example', '//evil.example']) {
      const res = await agent.get(`/preferences?next=${next}`).expect(200);
      expect(res.text, next).not.to.contain('evil.example');
      const signIn = await request(example.app).get(`/sign-in?next=${next}`).expect(200);
      expect(signIn.text, next).not.to.contain('evil.example');
    }
    const kept = await agent.get('/preferences?next=%2Finsights%3Fx%3D1').expect(200);
    expect(kept.text).to.contain('<a href="/insights?x=1">go back to the page you asked for</a>');
  });

  it('answers a forged history cursor with 400, not an error page of the server', async () => {
    const { agent, token } = await visitor();
    await agent.post('/sign-up').type('form').send(form(token, 'd@example.com')).expect(303);
    const res = await agent.get('/preferences?cursor=not-a-cursor').expect(400);
    expect(res.text).to.contain('That address or form is not valid.');
  });
});

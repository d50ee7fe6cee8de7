import { expect } from 'chai';
import request from 'supertest';
import { createExampleApp, type ExampleApp } from '../../examples/app/create-app';
import { tempSqliteFile } from '../helpers/databases';

const csrfOf = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

describe('example app: admin console and development mailbox', () => {
  const db = tempSqliteFile();
  let example: ExampleApp;

  before(async () => {
    example = await createExampleApp({ databaseFile: db.filename, secret: 's'.repeat(32), adminPassword: 'correct horse', logger: { warn: () => {}, error: () => {} } });
  });
  after(async () => {
    await example.close();
    db.cleanup();
  });

  it('asks for the administrator password, and shows the console in the example layout with it', async () => {
    for (const auth of [undefined, ['admin', 'wrong'], ['root', 'correct horse']] as const) {
      const req = request(example.app).get('/consent/admin/console/');
      const res = await (auth ? req.auth(auth[0], auth[1]) : req).expect(401);
      expect(res.headers['www-authenticate']).to.equal('Basic realm="Bookshelf consent console", charset="UTF-8"');
      expect(res.text).not.to.contain('Consent overview');
    }
    const ok = await request(example.app).get('/consent/admin/console/').auth('admin', 'correct horse').expect(200);
    expect(ok.text).to.contain('<title>Consent overview · Consent console · Bookshelf</title>').and.contain('<h1>Consent overview</h1>');
    expect(ok.text).to.contain('<a class="skip" href="#main">Skip to content</a>');
    await request(example.app).get('/consent/admin/stats').auth('admin', 'correct horse').expect(200);
  });

  it('shows people their account number, and lets staff find their records by it or by their email address', async () => {
    const agent = request.agent(example.app);
    const token = csrfOf((await agent.get('/sign-up').expect(200)).text);
    await agent.post('/sign-up').type('form').send({ _csrf: token, email: 'Reader@Example.com', password: 'long enough password', 'consent[terms]': 'on' }).expect(303);
    const preferences = (await agent.get('/preferences').expect(200)).text;
    const accountId = /<code class="account-id">([^<]+)<\/code>/.exec(preferences)?.[1] as string;
    expect(accountId).to.match(/^[0-9a-f-]{36}$/);
    // The console finds the person by the number their page shows.
    const console = (await request(example.app).get(`/consent/admin/console/subject?id=${accountId}`).auth('admin', 'correct horse').expect(200)).text;
    expect(console).to.contain('terms').and.not.contain('No record of this subject');

    // Staff who have only the email address: behind the console's password, posted (never in a URL).
    await request(example.app).get('/staff/find').expect(401);
    await request(example.app).post('/staff/find').type('form').send({ email: 'reader@example.com' }).expect(401);
    const staff = request.agent(example.app);
    const form = (await staff.get('/staff/find').auth('admin', 'correct horse').expect(200)).text;
    expect(form).to.contain('<form method="post" action="/staff/find">').and.contain('<label for="email">Email address</label>').and.not.contain('role="alert"');
    const find = (fields: Record<string, unknown>) => staff.post('/staff/find').auth('admin', 'correct horse').type('form').send({ _csrf: csrfOf(form), ...fields });
    const found = await find({ email: ' READER@example.COM ' }).expect(303);
    expect(found.headers.location).to.equal(`/consent/admin/console/subject?id=${accountId}`);
    const missing = (await find({ email: '<b>nobody@example.com' }).expect(404)).text;
    expect(missing).to.contain('role="alert">No account uses &lt;b&gt;nobody@example.com.</p>').and.not.contain('<b>nobody');
    // No address, or a repeated one, is refused with the form again, not an error page.
    for (const fields of [{}, { email: '' }]) {
      expect((await find(fields).expect(400)).text).to.contain('role="alert">Enter the email address the person wrote from.</p>').and.contain('name="email"');
    }
    expect((await staff.post('/staff/find').auth('admin', 'correct horse').type('form').send('_csrf=' + csrfOf(form) + '&email=a%40example.com&email=b%40example.com').expect(400)).text).to.contain('name="email"');
    // Without the form's token (another site's form), nothing is looked up.
    await staff.post('/staff/find').auth('admin', 'correct horse').type('form').send({ email: 'reader@example.com' }).expect(403);
  });

  it('delivers the double opt-in email to the mailbox of the person who asked, and only theirs', async () => {
    const person = async (email: string) => {
      const agent = request.agent(example.app);
      const token = csrfOf((await agent.get('/sign-up').expect(200)).text);
      await agent.post('/sign-up').type('form').send({ _csrf: token, email, password: 'long enough password', 'consent[terms]': 'on' }).expect(303);
      return { agent, token: csrfOf((await agent.get('/preferences').expect(200)).text) };
    };
    const asker = await person('asker@example.com');
    const other = await person('other@example.com');
    await asker.agent.post('/preferences/digest').type('form').send({ _csrf: asker.token, decision: 'granted', version: '1' }).expect(303);
    const mailbox = (await asker.agent.get('/dev/mailbox').expect(200)).text;
    expect(mailbox).to.contain('Please confirm: Weekly reading digest').and.contain('To asker@example.com');
    const link = /<a href="(\/consent\/confirm\/[^"]+)">Confirm my address<\/a>/.exec(mailbox)?.[1] as string;
    expect(link).to.be.a('string');
    expect((await other.agent.get('/dev/mailbox').expect(200)).text).to.contain('No email yet');
    // In German, the page says so: the document, and the example's English header apart.
    const german = (await asker.agent.get(`${link}?lang=de`).set('Accept', 'text/html').expect(200)).text;
    expect(german).to.include('<html lang="de">').and.include('<header lang="en">').and.include('<div class="ec-content" lang="de">');
    expect((await asker.agent.get(link).set('Accept', 'text/html').expect(200)).text).to.include('<html lang="en">').and.include('<header>');
    await asker.agent.post(link).set('Accept', 'text/html').type('form').send('').expect(200);
    expect((await asker.agent.get('/consent/me').expect(200)).body.states.digest.state).to.equal('granted');
  });

  it('with publicUrl, links its emails to the public address even before the consent router has handled a request', async () => {
    const fresh = tempSqliteFile();
    const warnings: string[] = [];
    const started = await createExampleApp({ databaseFile: fresh.filename, secret: 's'.repeat(32), publicUrl: 'http://127.0.0.1:8123/', logger: { warn: (m) => { warnings.push(m); }, error: () => {} } });
    try {
      const agent = request.agent(started.app);
      const token = csrfOf((await agent.get('/sign-up').expect(200)).text);
      await agent.post('/sign-up').type('form').send({ _csrf: token, email: 'first@example.com', password: 'long enough password', 'consent[terms]': 'on' }).expect(303);
      const csrf = csrfOf((await agent.get('/preferences').expect(200)).text);
      await agent.post('/preferences/digest').type('form').send({ _csrf: csrf, decision: 'granted', version: '1' }).expect(303);
      const mailbox = (await agent.get('/dev/mailbox').expect(200)).text;
      const link = /<a href="http:\/\/127\.0\.0\.1:8123(\/consent\/confirm\/[^"]+)">Confirm my address<\/a>/.exec(mailbox)?.[1] as string;
      expect(link, mailbox).to.be.a('string');
      expect(warnings.filter((w) => w.includes('confirmation link'))).to.deep.equal([]);
      await agent.post(link).set('Accept', 'text/html').type('form').send('').expect(200);
      expect((await agent.get('/consent/me').expect(200)).body.states.digest.state).to.equal('granted');
    } finally {
      await started.close();
      fresh.cleanup();
    }
  });
});

import { expect } from 'chai';
import request from 'supertest';
import { createExampleApp, type ExampleApp, type ExampleOptions } from '../../examples/app/create-app';
import { tempSqliteFile } from '../helpers/databases';

const quiet = { warn: () => {}, error: () => {} };
const HOUR = 3_600_000;

function csrfOf(html: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
}

/** The example_session Set-Cookie line of a response. */
function sessionCookie(res: request.Response): string {
  const lines = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  const line = lines.find((l) => l.startsWith('example_session='));
  expect(line, 'a session cookie').to.be.a('string');
  return line as string;
}

const pair = (setCookie: string): string => setCookie.split(';')[0] as string;

describe('example app: session cookies', () => {
  const files: Array<ReturnType<typeof tempSqliteFile>> = [];
  const examples: ExampleApp[] = [];
  const clock = { ms: Date.parse('2026-12-01T09:00:00.000Z') };

  async function open(options: Partial<ExampleOptions> = {}): Promise<ExampleApp> {
    const file = tempSqliteFile();
    files.push(file);
    const example = await createExampleApp({ databaseFile: file.filename, secret: 's'.repeat(32), logger: quiet, now: () => new Date(clock.ms), ...options });
    examples.push(example);
    return example;
  }

  after(async () => {
    for (const example of examples) await example.close();
    for (const file of files) file.cleanup();
  });

  /** Signs a new account up through the form; resolves to the agent and the signed-in cookie. */
  async function signUp(example: ExampleApp, email: string) {
    const agent = request.agent(example.app);
    const token = csrfOf((await agent.get('/sign-up').expect(200)).text);
    const res = await agent.post('/sign-up').type('form').send({ _csrf: token, email, password: 'long enough password', 'consent[terms]': 'on' }).expect(303);
    return { agent, cookie: pair(sessionCookie(res)) };
  }

  it('is Secure when the request came over HTTPS, as a trusted proxy reports it', async () => {
    const proxied = await open({ trustProxy: 'loopback' });
    const https = sessionCookie(await request(proxied.app).get('/sign-up').set('X-Forwarded-Proto', 'https').expect(200));
    expect(https.split('; ')).to.include.members(['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/']);
    const http = sessionCookie(await request(proxied.app).get('/sign-up').expect(200));
    expect(http.split('; ')).not.to.include('Secure');
    // Without `trust proxy`, anybody could send the header: it is not believed.
    const direct = await open();
    expect(sessionCookie(await request(direct.app).get('/sign-up').set('X-Forwarded-Proto', 'https').expect(200)).split('; ')).not.to.include('Secure');
  });

  it('ends after its max age, in the browser (Max-Age) and on the server', async () => {
    const example = await open({ sessionMaxAgeSeconds: 3600 });
    const visitor = sessionCookie(await request(example.app).get('/sign-up').expect(200));
    expect(visitor.split('; ')).to.include('Max-Age=3600');
    const { cookie } = await signUp(example, 'max-age@example.com');
    clock.ms += HOUR - 1000;
    await request(example.app).get('/preferences').set('Cookie', cookie).expect(200);
    clock.ms += 1000;
    // A browser would have dropped the cookie by now; a copy kept elsewhere is refused too.
    await request(example.app).get('/preferences').set('Cookie', cookie).expect(303).expect('Location', '/sign-in?next=%2Fpreferences');
  });

  it('is revoked on the server at sign-out: a copied cookie no longer signs anyone in', async () => {
    const example = await open();
    const { agent, cookie } = await signUp(example, 'copied@example.com');
    await request(example.app).get('/preferences').set('Cookie', cookie).expect(200);
    const page = await agent.get('/preferences').expect(200);
    await agent.post('/sign-out').type('form').send({ _csrf: csrfOf(page.text) }).expect(303).expect('Location', '/');
    await request(example.app).get('/preferences').set('Cookie', cookie).expect(303).expect('Location', '/sign-in?next=%2Fpreferences');
    // The JSON API sees a visitor now (the example has visitors on), never the account.
    const me = await request(example.app).get('/consent/me').set('Cookie', cookie).expect(200);
    expect((me.body as { states: Record<string, { state: string }> }).states.terms?.state).to.equal('unset');
    // Signing in again starts a new session; the copy stays dead.
    const token = csrfOf((await agent.get('/sign-in').expect(200)).text);
    await agent.post('/sign-in').type('form').send({ _csrf: token, email: 'copied@example.com', password: 'long enough password' }).expect(303);
    await agent.get('/preferences').expect(200);
    await request(example.app).get('/preferences').set('Cookie', cookie).expect(303);
  });
});

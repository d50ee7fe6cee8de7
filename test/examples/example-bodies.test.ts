import { expect } from 'chai';
import request from 'supertest';
import { createExampleApp, type ExampleApp } from '../../examples/app/create-app';
import { tempSqliteFile } from '../helpers/databases';
import { sendRaw } from '../helpers/raw-body';

function csrfOf(html: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
}

describe('example app: form bodies it cannot read', () => {
  const db = tempSqliteFile();
  let example: ExampleApp;
  let logged: unknown[];
  let originalError: typeof console.error;

  before(async () => {
    logged = [];
    example = await createExampleApp({ databaseFile: db.filename, secret: 's'.repeat(32), logger: { warn: () => {}, error: (...args) => void logged.push(args) } });
    // The example reports server errors with console.error: none may happen here.
    originalError = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
  });
  after(async () => {
    console.error = originalError;
    await example.close();
    db.cleanup();
  });

  /** A signed-in visitor and their form token. */
  async function member(email: string) {
    const agent = request.agent(example.app);
    const token = csrfOf((await agent.get('/sign-up').expect(200)).text);
    await agent.post('/sign-up').type('form').send({ _csrf: token, email, password: 'long enough password', 'consent[terms]': 'on' }).expect(303);
    return { agent, token: csrfOf((await agent.get('/preferences').expect(200)).text) };
  }

  function expectPage(res: request.Response, status: number, text: string): void {
    expect(res.status, res.text.slice(0, 200)).to.equal(status);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    expect(res.text).to.contain('<main').and.contain(text);
    expect(res.text).not.to.match(/\bat [\w.<>]+ \(|node_modules|Error:/);
  }

  it('answers 413, 400 and 415 pages to an oversized, undecodable or non-UTF-8 form, on every form route', async () => {
    const { agent, token } = await member('forms@example.com');
    const big = `_csrf=${token}&decision=granted&version=1&note=${'x'.repeat(20 * 1024)}`;
    for (const path of ['/sign-up', '/sign-in', '/sign-out', '/preferences/analytics']) {
      const post = () => agent.post(path).set('content-type', 'application/x-www-form-urlencoded');
      expectPage(await sendRaw(post(), big), 413, 'too large');
      expectPage(await sendRaw(post().set('content-encoding', 'gzip'), `_csrf=${token}&decision=granted`), 400, 'not valid');
      expectPage(await sendRaw(post().set('content-type', 'application/x-www-form-urlencoded; charset=utf-7'), `_csrf=${token}`), 415, 'cannot read the way');
    }
    expect((await agent.get('/consent/me').expect(200)).body.states.analytics.state).to.equal('unset');
    expect(logged).to.deep.equal([]);
  });

  it('answers 400 to a form address that is not valid percent-encoding', async () => {
    const { agent, token } = await member('paths@example.com');
    expectPage(await agent.post('/preferences/%ZZ').type('form').send({ _csrf: token, decision: 'granted', version: '1' }), 400, 'not valid');
    expect(logged).to.deep.equal([]);
  });
});

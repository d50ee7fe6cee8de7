import { expect } from 'chai';
import request from 'supertest';
import { createExampleApp, type ExampleApp } from '../../examples/app/create-app';
import { tempSqliteFile } from '../helpers/databases';

const quiet = { warn: () => {}, error: () => {} };
const csrfOf = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

describe('example app: visitors', () => {
  const file = tempSqliteFile();
  let example: ExampleApp;

  before(async () => {
    example = await createExampleApp({ databaseFile: file.filename, secret: 's'.repeat(32), logger: quiet });
  });
  after(async () => {
    await example.close();
    file.cleanup();
  });

  it('loads the browser client for visitors on the home page, with a way to reopen the choices', async () => {
    const home = (await request(example.app).get('/').expect(200)).text;
    expect(home).to.contain('<script src="/consent/client.js" data-requirements="analytics" defer></script>');
    expect(home).to.contain('data-consent-open');
    await request(example.app).get('/consent/client.js').expect(200).expect('content-type', /javascript/);
  });

  it('does not ask again at sign-up what a visitor already agreed to, and carries that answer to the account', async () => {
    const agent = request.agent(example.app);
    const boxes = (html: string): string[] => [...html.matchAll(/name="consent\[([a-z]+)\]"/g)].map((m) => m[1] as string);
    expect(boxes((await agent.get('/sign-up').expect(200)).text)).to.deep.equal(['terms', 'newsletter']);
    await agent.put('/consent/me/newsletter').send({ decision: 'granted' }).expect(200);
    const form = (await agent.get('/sign-up').expect(200)).text;
    expect(boxes(form), 'the newsletter is not asked again').to.deep.equal(['terms']);
    expect(form).to.contain('You already agreed to: Monthly newsletter.');
    const refused = (await agent.post('/sign-up').type('form').send({ _csrf: csrfOf(form), email: 'nina@example.com', password: 'long enough password' }).expect(422)).text;
    expect(boxes(refused), 'a refused form asks the same').to.deep.equal(['terms']);
    expect(refused).to.contain('You already agreed to: Monthly newsletter.');
    await agent.post('/sign-up').type('form').send({ _csrf: csrfOf(form), email: 'nina@example.com', password: 'long enough password', 'consent[terms]': 'on' }).expect(303);
    const me = (await agent.get('/consent/me').expect(200)).body as { states: Record<string, { state: string }> };
    expect(me.states.newsletter?.state).to.equal('granted');
    const history = (await agent.get('/consent/me/history').expect(200)).body as { events: Array<{ requirement: string; source: string }> };
    expect(history.events.filter((e) => e.requirement === 'newsletter').map((e) => e.source), 'carried, not ticked at sign-up').to.deep.equal(['link']);
  });

  it('asks a visitor who withdrew again at sign-up, from an unticked box', async () => {
    const agent = request.agent(example.app);
    await agent.put('/consent/me/newsletter').send({ decision: 'granted' }).expect(200);
    await agent.put('/consent/me/newsletter').send({ decision: 'denied' }).expect(200);
    const form = (await agent.get('/sign-up').expect(200)).text;
    expect(form).to.match(/name="consent\[newsletter\]"/).and.not.contain('You already agreed');
    // A refused form (no terms) keeps asking the same questions.
    const refused = (await agent.post('/sign-up').type('form').send({ _csrf: csrfOf(form), email: 'otto@example.com', password: 'long enough password' }).expect(422)).text;
    expect(refused).to.match(/name="consent\[newsletter\]"/).and.match(/name="consent\[terms\]"/);
  });

  it('carries a visitor\'s choices into the account at sign-up, and keeps the browser that visitor after sign-out', async () => {
    const agent = request.agent(example.app);
    await agent.post('/consent/me').send({ decisions: { analytics: 'granted', newsletter: 'denied' } }).expect(200);
    const token = csrfOf((await agent.get('/sign-up').expect(200)).text);
    await agent.post('/sign-up').type('form').send({ _csrf: token, email: 'vera@example.com', password: 'long enough password', 'consent[terms]': 'on' }).expect(303);
    const me = (await agent.get('/consent/me').expect(200)).body as { states: Record<string, { state: string }> };
    expect(me.states.analytics?.state, 'carried from the visitor').to.equal('granted');
    expect(me.states.newsletter?.state, 'the sign-up form answered later').to.equal('denied');
    const history = (await agent.get('/consent/me/history').expect(200)).body as { events: Array<{ requirement: string; source: string }> };
    expect(history.events.filter((e) => e.source === 'link').map((e) => e.requirement)).to.deep.equal(['analytics']);
    const page = (await agent.get('/preferences').expect(200)).text;
    expect(page).to.contain('Your choices before you signed in');
    expect(page).to.not.contain('/consent/client.js');

    const signOut = csrfOf(page);
    await agent.post('/sign-out').type('form').send({ _csrf: signOut }).expect(303);
    await agent.put('/consent/me/analytics').send({ decision: 'denied' }).expect(200);
    const visitor = (await agent.get('/consent/me').expect(200)).body as { states: Record<string, { state: string }> };
    expect(visitor.states.analytics?.state).to.equal('denied');
    // Signing in again carries the visitor's newer answer.
    const signIn = csrfOf((await agent.get('/sign-in').expect(200)).text);
    await agent.post('/sign-in').type('form').send({ _csrf: signIn, email: 'vera@example.com', password: 'long enough password' }).expect(303);
    expect(((await agent.get('/consent/me').expect(200)).body as { states: Record<string, { state: string }> }).states.analytics?.state).to.equal('denied');
  });
});

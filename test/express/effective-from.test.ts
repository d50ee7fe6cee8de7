import { expect } from 'chai';
import request from 'supertest';
import { createConsent, MemoryTracker, type RequirementDefinition } from '../../lib/index';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { BACKENDS, TEST_SECRET, expressModule, headerSubject, memoryLogger, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { heardBack } from '../helpers/consent-setup';
import { expectProblem } from '../helpers/problem';

const START = Date.parse('2027-01-01T00:00:00.000Z');
const T = START + 10_000;

/** Version 1 now, version 2 from `T` (a new text), version 3 from a day later. */
const SCHEDULED: RequirementDefinition[] = [
  { id: 'stats', version: 1, title: 'Statistics', description: 'We count page views.' },
  { id: 'stats', version: 2, title: 'Statistics', description: 'We count page views and clicks.', effectiveFrom: new Date(T) },
  { id: 'stats', version: 3, title: 'Statistics', description: 'We count page views, clicks and scrolls.', effectiveFrom: new Date(T + 86_400_000).toISOString() },
  { id: 'letter', title: 'Newsletter', description: 'A monthly e-mail.' },
];

const as = (user: string) => ({ 'x-test-user': user });

for (const backend of BACKENDS) {
  backend.describe(`versions that start on a date (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let clock = START;

    beforeEach(async () => {
      clock = START;
      db = await backend.open();
      t = await testConsent(db, { now: () => new Date(clock), cache: { max: 100, ttlMs: 3_600_000 }, admin: { authorize: headerAdmin } }, SCHEDULED);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('switches at the exact millisecond on every read path, the warm-cache guard included', async () => {
      const lib = expressModule();
      const app = lib();
      app.use('/consent', t.consent.router());
      app.get('/stats', t.consent.requireConsent('stats'), (_req, res) => { res.send('ok'); });

      expect((await request(app).get('/consent/requirements').expect(200)).body.requirements[0]).to.include({ id: 'stats', version: 1, description: 'We count page views.' });
      await request(app).put('/consent/me/stats').set(as('ann')).send({ decision: 'granted', version: 1 }).expect(200);
      if (backend.name === 'PostgreSQL') await heardBack(t.consent, 1);
      await request(app).get('/stats').set(as('ann')).expect(200);
      expect(await t.consent.pending('ann')).to.deep.equal(['letter']);

      // The store goes away: from here on only the cache can answer the guard.
      await t.knex.destroy();
      clock = T - 1;
      await request(app).get('/stats').set(as('ann')).expect(200);
      clock = T;
      const refused = await request(app).get('/stats').set(as('ann'));
      expect(expectProblem(refused, 403, 'consent_required').missing).to.deep.equal([{ id: 'stats', state: 'outdated', reason: 'outdated', title: 'Statistics', url: null }]);
      clock = T - 1;
      await request(app).get('/stats').set(as('ann')).expect(200);
    });

    it('states(), pending(), isAllowed(), GET /me, receipts and stateAt() see the new version from its start', async () => {
      const app = routerApp(t.consent);
      await t.consent.record('ann', { stats: 'granted' });
      clock = T - 1;
      expect((await t.consent.states('ann')).stats).to.include({ state: 'granted', version: 1, allowed: true });
      expect(await t.consent.isAllowed('ann', 'stats')).to.equal(true);
      expect((await request(app).get('/consent/me').set(as('ann')).expect(200)).body.states.stats.state).to.equal('granted');

      clock = T;
      expect((await t.consent.states('ann')).stats).to.include({ state: 'outdated', version: 1, allowed: false });
      expect(await t.consent.pending('ann')).to.deep.equal(['stats', 'letter']);
      expect(await t.consent.isAllowed('ann', 'stats')).to.equal(false);
      const me = await request(app).get('/consent/me').set(as('ann')).expect(200);
      expect(me.body.states.stats.state).to.equal('outdated');
      expect(me.body.pending).to.deep.equal(['stats', 'letter']);
      expect((await t.consent.receipt('ann')).decisions[0]).to.include({ requirement: 'stats', version: 1, state: 'outdated' });
      expect((await request(app).get('/consent/requirements').expect(200)).body.requirements[0]).to.include({ version: 2, description: 'We count page views and clicks.', effectiveFrom: new Date(T).toISOString() });

      // The text shown before the start is no longer the one to answer.
      expectProblem(await request(app).put('/consent/me/stats').set(as('ann')).send({ decision: 'granted', version: 1 }), 409, 'version_mismatch');
      await request(app).put('/consent/me/stats').set(as('ann')).send({ decision: 'granted', version: 2 }).expect(200);
      expect((await t.consent.stateAt('ann', 'stats', T - 1)).state).to.equal('granted');
      expect((await t.consent.stateAt('ann', 'stats', T)).state).to.equal('granted');
      expect((await t.consent.states('ann')).stats).to.include({ state: 'granted', version: 2 });

      clock = T + 86_400_000;
      expect((await t.consent.states('ann')).stats).to.include({ state: 'outdated', version: 2 });
      const { events } = await t.consent.history('ann');
      expect(events.map((e) => e.version)).to.deep.equal([2, 1]);
    });

    it('stores every version ahead, and the console lists the upcoming ones', async () => {
      const rows = await t.knex('consent_requirements').where({ id: 'stats' }).orderBy('version').select('version', 'effective_from');
      expect(rows.map((r: { version: number; effective_from: number | string | null }) => [r.version, r.effective_from === null ? null : Number(r.effective_from)]))
        .to.deep.equal([[1, null], [2, T], [3, T + 86_400_000]]);
      expect((await t.consent.verify()).ok).to.equal(true);
      const app = routerApp(t.consent);
      const upcoming = async () => {
        const page = await request(app).get('/consent/admin/console/').set(ADMIN).expect(200);
        return /<table class="upcoming[^]*?<\/table>/.exec(page.text)?.[0] ?? '';
      };
      const before = await upcoming();
      expect(before).to.include('<caption>Upcoming versions</caption>').and.include('We count page views and clicks.').and.include(`datetime="${new Date(T).toISOString()}"`);
      expect(before).to.include('We count page views, clicks and scrolls.');
      clock = T;
      const after = await upcoming();
      expect(after).to.not.include('We count page views and clicks.');
      expect(after).to.include('We count page views, clicks and scrolls.');
      clock = T + 86_400_000;
      expect(await upcoming()).to.equal('');
    });
  });
}

/** Versions from `T` that change the rules: a lawful basis that becomes consent, and a new text of a double opt-in requirement. */
const RULES_CHANGE: RequirementDefinition[] = [
  { id: 'li', version: 1, title: 'Fraud checks', description: 'We check payments.', lawfulBasis: 'legitimate_interests' },
  { id: 'li', version: 2, title: 'Fraud checks', description: 'We check payments with a partner.', lawfulBasis: 'consent', effectiveFrom: new Date(T) },
  { id: 'terms', version: 1, title: 'Terms', description: 'The rules.', lawfulBasis: 'contract' },
  { id: 'terms', version: 2, title: 'Terms', description: 'The rules, and a partner.', lawfulBasis: 'consent', effectiveFrom: new Date(T) },
  { id: 'mail', version: 1, title: 'Newsletter', description: 'A monthly e-mail.', doubleOptIn: true },
  { id: 'mail', version: 2, title: 'Newsletter', description: 'A weekly e-mail.', doubleOptIn: true, effectiveFrom: new Date(T) },
  { id: 'digest', title: 'Digest', description: 'A weekly digest.', doubleOptIn: true },
];

for (const backend of BACKENDS) {
  backend.describe(`versions that start on a date with other rules (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let clock = START;

    beforeEach(async () => {
      clock = START;
      db = await backend.open();
      t = await testConsent(db, { now: () => new Date(clock), cache: { max: 100, ttlMs: 3_600_000 }, confirm: { resendAfterMs: 0 } }, RULES_CHANGE);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('a basis that becomes consent refuses from its start: the warm-cache guard, allows() and requireAnswers() included', async () => {
      const app = expressModule()();
      app.use('/consent', t.consent.router());
      app.get('/li', t.consent.requireConsent('li'), (_req, res) => { res.send('ok'); });
      app.get('/terms', t.consent.requireConsent('terms'), (_req, res) => { res.send('ok'); });
      app.get('/answered', t.consent.requireAnswers({ only: ['li', 'terms'] }), (_req, res) => { res.send('ok'); });
      app.get('/allows', (req, res, next) => { t.consent.allows(req, ['li', 'terms']).then((allowed) => res.json({ allowed }), next); });

      for (const path of ['/li', '/terms', '/answered']) await request(app).get(path).set(as('ann')).expect(200);
      expect((await request(app).get('/allows').set(as('ann')).expect(200)).body.allowed).to.equal(true);
      await t.knex.destroy();
      // From here on only the cache can answer.
      clock = T - 1;
      await request(app).get('/li').set(as('ann')).expect(200);
      clock = T;
      for (const id of ['li', 'terms']) {
        expect(expectProblem(await request(app).get(`/${id}`).set(as('ann')), 403, 'consent_required').missing).to.deep.equal([{ id, state: 'unset', reason: 'unset', title: id === 'li' ? 'Fraud checks' : 'Terms', url: null }]);
      }
      expect((expectProblem(await request(app).get('/answered').set(as('ann')), 403, 'consent_required').missing as Array<{ id: string }>).map((m) => m.id)).to.deep.equal(['li', 'terms']);
      expect((await request(app).get('/allows').set(as('ann')).expect(200)).body.allowed).to.equal(false);
    });

    it('a double opt-in request for the text before falls back at the start of the next one, and is asked again', async () => {
      const app = routerApp(t.consent);
      app.get('/answered', t.consent.requireAnswers(), (_req, res) => { res.send('ok'); });
      const links: string[] = [];
      t.consent.on('confirmation', ({ url }) => { links.push(url); });
      await request(app).put('/consent/me/digest').set(as('bo')).send({ decision: 'granted' }).expect(202);
      await request(app).post(links[0] as string).type('form').send('').expect(200);
      // Two emails for the newsletter: the first link is replaced by the second.
      await request(app).put('/consent/me/mail').set(as('bo')).send({ decision: 'granted', version: 1 }).expect(202);
      await request(app).put('/consent/me/mail').set(as('bo')).send({ decision: 'granted', version: 1 }).expect(202);
      expect(links).to.have.length(3);
      expect((await t.consent.export('bo')).confirmations.map((c) => c.requirement)).to.deep.equal(['mail']);
      const before = await request(app).get('/consent/me').set(as('bo')).expect(200);
      expect(before.body.states.mail).to.include({ state: 'pending', version: 1 });
      expect(before.body.pending).to.deep.equal([]);
      await request(app).get('/answered').set(as('bo')).expect(200);

      clock = T;
      const after = await request(app).get('/consent/me').set(as('bo')).expect(200);
      expect(after.body.states.mail).to.include({ state: 'unset', allowed: false });
      expect(after.body.pending).to.deep.equal(['li', 'terms', 'mail']);
      expect((await t.consent.states('bo')).mail?.state).to.equal('unset');
      // The request can no longer be confirmed: the export does not offer it, and the replaced
      // link is not taken for one that went through.
      expect((await t.consent.export('bo')).confirmations).to.deep.equal([]);
      const replaced = await request(app).get(links[1] as string).set('Accept', 'text/html');
      expect(replaced.text).not.to.include('You have already confirmed');
      expect((expectProblem(await request(app).get('/answered').set(as('bo')), 403, 'consent_required').missing as Array<{ id: string }>).map((m) => m.id)).to.deep.equal(['li', 'terms', 'mail']);
      // Asked again with the new text, the request is for it.
      await request(app).put('/consent/me/mail').set(as('bo')).send({ decision: 'granted', version: 2 }).expect(202);
      expect((await t.consent.states('bo')).mail).to.include({ state: 'pending', version: 2 });
      expect((await t.consent.verify()).ok).to.equal(true);
    });
  });
}

describe('registering versions ahead', () => {
  const fresh = () => createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, subject: headerSubject, logger: memoryLogger() });

  it('needs a later start for every later version, and one registration per version', () => {
    expect(() => { fresh().register([SCHEDULED[0] as RequirementDefinition, { ...SCHEDULED[1] as RequirementDefinition, effectiveFrom: undefined }]); }).to.throw(/effectiveFrom/);
    expect(() => { fresh().register([SCHEDULED[0] as RequirementDefinition, SCHEDULED[0] as RequirementDefinition]); }).to.throw(/registered twice/);
    expect(() => { fresh().register([SCHEDULED[0] as RequirementDefinition, { ...SCHEDULED[2] as RequirementDefinition, effectiveFrom: 'soon' }]); }).to.throw(/effectiveFrom/);
    expect(() => { fresh().register([SCHEDULED[1] as RequirementDefinition, { ...SCHEDULED[2] as RequirementDefinition, effectiveFrom: new Date(T - 1) }]); }).to.throw(/later than that of version 2/);
    const consent = fresh();
    consent.register(SCHEDULED[0] as RequirementDefinition);
    expect(() => { consent.register(SCHEDULED[1] as RequirementDefinition); }).to.throw(/registered twice by app, by an earlier call \(register\(\) called twice\?\)/);
  });
});

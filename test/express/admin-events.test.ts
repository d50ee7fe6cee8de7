import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import type { Consent } from '../../lib/index';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

interface AdminEvent { id: string; requirement: string; action: string; at: string; subject: string | null }

for (const backend of BACKENDS) {
  backend.describe(`GET /admin/events (${backend.name})`, () => {
    let db: TestDatabase;
    let close: () => Promise<void>;
    let consent: Consent;
    let app: Express;
    let clock = Date.parse('2026-03-01T10:00:00.000Z');

    beforeEach(async () => {
      db = await backend.open();
      clock = Date.parse('2026-03-01T10:00:00.000Z');
      const t = await testConsent(db, { admin: { authorize: headerAdmin }, now: () => new Date(clock) });
      close = t.close;
      consent = t.consent;
      app = routerApp(consent);
      // Day 1: alice and bob; day 2: carol and a withdrawal by alice.
      await consent.record('alice', { analytics: 'granted', ads: 'granted' });
      await consent.record('bob', { ads: 'denied' });
      clock += 86_400_000;
      await consent.record('carol', { analytics: 'granted' });
      await consent.record('alice', { ads: 'denied' });
    });
    afterEach(async () => {
      await close();
      await db.cleanup();
    });

    const get = async (query: string): Promise<{ events: AdminEvent[]; nextCursor: string | null }> =>
      (await request(app).get(`/consent/admin/events${query}`).set(ADMIN).expect(200)).body;

    it('lists every subject\'s events newest first, each with the subject pseudonym', async () => {
      const page = await get('');
      expect(page.nextCursor).to.equal(null);
      expect(page.events.map((e) => `${e.action}:${e.requirement}`)).to.deep.equal(['withdraw:ads', 'grant:analytics', 'deny:ads', 'grant:ads', 'grant:analytics']);
      const [alice, carol, bob] = ['alice', 'carol', 'bob'].map((id) => consent.engine.pseudonym(id));
      expect(page.events.map((e) => e.subject)).to.deep.equal([alice, carol, bob, alice, alice]);
      expect(page.events[0]).to.have.all.keys('id', 'requirement', 'version', 'action', 'state', 'source', 'actor', 'at', 'note', 'data', 'context', 'locale', 'subject');
    });

    it('pages with opaque keyset cursors until nextCursor is null', async () => {
      const seen: string[] = [];
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        const page = await get(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.events.length).to.be.at.most(2);
        seen.push(...page.events.map((e) => e.id));
        cursor = page.nextCursor;
        pages += 1;
      }
      expect(pages).to.equal(3);
      expect(seen).to.deep.equal((await get('')).events.map((e) => e.id));
      // A new event does not shift a page already handed out.
      const first = await get('?limit=2');
      await consent.record('dave', { ads: 'granted' });
      const next = await get(`?limit=2&cursor=${String(first.nextCursor)}`);
      expect(next.events.map((e) => e.id)).to.deep.equal(seen.slice(2, 4));
    });

    it('filters by requirement, action and time', async () => {
      expect((await get('?requirement=ads')).events.map((e) => e.action)).to.deep.equal(['withdraw', 'deny', 'grant']);
      expect((await get('?action=grant&requirement=analytics')).events).to.have.length(2);
      // A rarer action is found through its own index, a grant or denial through the ids.
      expect((await get('?action=withdraw')).events.map((e) => `${e.action}:${e.requirement}`)).to.deep.equal(['withdraw:ads']);
      expect((await get('?action=deny')).events.map((e) => `${e.action}:${e.requirement}`)).to.deep.equal(['deny:ads']);
      expect((await get('?from=2026-03-02')).events.map((e) => e.action)).to.deep.equal(['withdraw', 'grant']);
      expect((await get('?to=2026-03-02T00:00:00Z')).events).to.have.length(3);
      expect((await get('?from=2026-03-01T10:00:00.000Z&to=2026-03-01T10:00:00.001Z')).events).to.have.length(3);
      expect((await get('?requirement=never-registered')).events).to.deep.equal([]);
    });

    it('compares bounds finer than a millisecond with stored times exactly: 10:00:00.000 is before 10:00:00.0005', async () => {
      // The first day's three events are all at 10:00:00.000 (+02:00: the same instant).
      expect((await get('?to=2026-03-01T10:00:00.0005Z')).events).to.have.length(3);
      expect((await get('?to=2026-03-01T12:00:00.000000001%2B02:00')).events).to.have.length(3);
      expect((await get('?from=2026-03-01T10:00:00.0005Z&to=2026-03-02')).events).to.have.length(0);
      expect((await get('?from=2026-03-01T10:00:00.0000Z&to=2026-03-01T10:00:00.0000001Z')).events).to.have.length(3);
    });

    it('rejects a bad query with a pointer per parameter', async () => {
      const res = await request(app).get('/consent/admin/events?limit=201&action=approve&from=yesterday&requirement=A&cursor=zzz').set(ADMIN);
      const body = expectProblem(res, 400, 'invalid_body');
      expect((body.errors as Array<{ pointer: string }>).map((e) => e.pointer)).to.have.members(['/limit', '/action', '/from', '/requirement', '/cursor']);
      const order = expectProblem(await request(app).get('/consent/admin/events?from=2026-03-02&to=2026-03-01').set(ADMIN), 400, 'invalid_body');
      expect(order.errors).to.deep.equal([{ pointer: '/to', detail: 'must not be before from' }]);
    });

    it('refuses a day its month does not have, where Date.parse would roll over into the next month', async () => {
      for (const query of ['from=2024-02-31T00:00:00Z', 'from=2023-02-29', 'to=2026-04-31', 'to=2026-06-31T10:00:00+02:00']) {
        const body = expectProblem(await request(app).get(`/consent/admin/events?${query}`).set(ADMIN), 400, 'invalid_body');
        expect((body.errors as Array<{ pointer: string }>).map((e) => e.pointer), query).to.deep.equal([`/${query.slice(0, query.indexOf('='))}`]);
        expectProblem(await request(app).get(`/consent/admin/export?${query}`).set(ADMIN), 400, 'invalid_body');
      }
      expect((await request(app).get('/consent/admin/events?from=2024-02-29&to=2026-12-31T23:59:59Z').set(ADMIN)).status).to.equal(200);
      // Year 0 is a leap year (proleptic Gregorian), year 100 is not.
      expect((await request(app).get('/consent/admin/events?from=0000-02-29').set(ADMIN)).status).to.equal(200);
      expectProblem(await request(app).get('/consent/admin/events?from=0100-02-29').set(ADMIN), 400, 'invalid_body');
    });

    it('refuses a query that is not valid percent-encoded UTF-8, rather than reading U+FFFD', async () => {
      for (const path of ['/consent/admin/verify?subjectId=%F0', '/consent/admin/events?context=%ED%A0%80', '/consent/admin/events?actor=a%', '/consent/admin/console/subject?id=%C0%AF', '/consent/admin/export?format=csv&%FF=1']) {
        const body = expectProblem(await request(app).get(path).set(ADMIN), 400, 'invalid_body');
        expect(body.detail, path).to.contain('percent-encoded');
      }
      expectProblem(await request(app).get('/consent/admin/verify?subjectId=%F0'), 403, 'forbidden');
      expect((await request(app).get('/consent/admin/verify?subjectId=%EF%BF%BD+x').set(ADMIN)).status).to.equal(200);
    });
  });
}

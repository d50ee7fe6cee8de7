import { expect } from 'chai';
import type { Express, Request } from 'express';
import request from 'supertest';
import type { Consent } from '../../lib/index';
import { BACKENDS, express4, expressModule, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

/** `x-staff`: a name → `{ actor: name }`; `plain` → true; `bad:*` → verdicts that must refuse. */
function staffAuthorize(req: Request): unknown {
  const staff = req.get('x-staff');
  if (staff === undefined) return false;
  if (staff === 'plain') return true;
  if (staff === 'bad:empty') return { actor: '' };
  if (staff === 'bad:extra') return { actor: 'x', role: 'admin' };
  if (staff === 'bad:number') return { actor: 7 };
  return { actor: staff };
}

interface AdminEvent { id: string; action: string; source: string; actor: string | null; context: string | null; subject: string | null }

for (const backend of BACKENDS) {
  backend.describe(`staff decisions, contexts and admin lookups (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;
    let app: Express;
    let warnings: string[];

    beforeEach(async () => {
      db = await backend.open();
      warnings = [];
      const logger = { warn: (message: string) => void warnings.push(message), error: () => undefined };
      t = await testConsent(db, { admin: { authorize: staffAuthorize as never }, logger });
      consent = t.consent;
      app = routerApp(consent);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('records the actor authorize named on an erasure over HTTP too', async () => {
      await consent.record('gone', { analytics: 'granted' });
      await request(app).delete('/consent/admin/subjects/gone').set('x-staff', 'dpo-jane').expect(200);
      const page = await request(app).get('/consent/admin/events?action=erase').set('x-staff', 'x').expect(200);
      expect((page.body.events as AdminEvent[]).map((e) => [e.action, e.source, e.actor])).to.deep.equal([['erase', 'admin', 'dpo-jane']]);
    });

    it('records a staff decision with source admin and the actor authorize named, shown in history, exports and the console', async () => {
      const res = await request(app)
        .post('/consent/admin/subjects/ann%40example.com/decisions')
        .set('x-staff', 'agent-17')
        .send({ decisions: { analytics: 'granted', ads: 'denied' }, note: 'by phone', context: 'call centre' })
        .expect(200);
      expect(res.body.states.analytics.state).to.equal('granted');
      expect(res.body.pending).to.deep.equal(['newsletter']);
      const history = await consent.history('ann@example.com');
      expect(history.events.map((e) => [e.source, e.actor, e.context, e.note])).to.deep.equal([
        ['admin', 'agent-17', 'call centre', 'by phone'],
        ['admin', 'agent-17', 'call centre', 'by phone'],
      ]);
      const exported = await request(app).get('/consent/admin/export?format=ndjson&actor=agent-17').set('x-staff', 'x').expect(200);
      const rows = (exported.text.trim().split('\n')).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(rows.map((r) => [r.source, r.actor, r.context])).to.deep.equal([['admin', 'agent-17', 'call centre'], ['admin', 'agent-17', 'call centre']]);
      const page = await request(app).get('/consent/admin/console/subject?id=ann%40example.com').set('x-staff', 'x').expect(200);
      expect(page.text).to.include('<td data-label="Actor" class="ec-free">agent-17</td><td data-label="Context" class="ec-free">call centre</td>');
      // `true` records no actor.
      await request(app).post('/consent/admin/subjects/bob/decisions').set('x-staff', 'plain').send({ decisions: { analytics: 'granted' } }).expect(200);
      expect((await consent.history('bob')).events[0]).to.include({ source: 'admin', actor: null });
    });

    it('refuses other verdicts, bad bodies and unknown ids, and records nothing', async () => {
      for (const staff of ['bad:empty', 'bad:extra', 'bad:number']) {
        expectProblem(await request(app).post('/consent/admin/subjects/ann/decisions').set('x-staff', staff).send({ decisions: { analytics: 'granted' } }), 403, 'forbidden');
      }
      expectProblem(await request(app).post('/consent/admin/subjects/ann/decisions').send({ decisions: { analytics: 'granted' } }), 403, 'forbidden');
      // Each malformed verdict is reported once, with what was wrong; a plain refusal (false) is not.
      expectProblem(await request(app).post('/consent/admin/subjects/ann/decisions').set('x-staff', 'bad:empty').send({ decisions: { analytics: 'granted' } }), 403, 'forbidden');
      expect(warnings.filter((w) => w.includes('admin.authorize'))).to.deep.equal([
        'express-consent: admin.authorize answered { actor } whose actor is empty, which is neither true nor { actor } (a string of 1–256 characters): answering 403',
        'express-consent: admin.authorize answered an object with the keys [actor, role], which is neither true nor { actor } (a string of 1–256 characters): answering 403',
        'express-consent: admin.authorize answered { actor } whose actor is a number, which is neither true nor { actor } (a string of 1–256 characters): answering 403',
      ]);
      const post = (body: unknown) => request(app).post('/consent/admin/subjects/ann/decisions').set('x-staff', 'a').send(body as object);
      expectProblem(await post({ decisions: { analytics: 'maybe' } }), 400, 'invalid_body');
      expectProblem(await post({ decisions: { analytics: 'granted' }, actor: 'me' }), 400, 'invalid_body');
      expectProblem(await post({ decisions: { analytics: 'granted' }, context: 'x'.repeat(201) }), 400, 'invalid_body');
      expectProblem(await post({ decisions: { nope: 'granted' } }), 422, 'unknown_requirement');
      expectProblem(await request(app).post('/consent/admin/subjects/ann/decisions?as=bob').set('x-staff', 'a').send({ decisions: { analytics: 'granted' } }), 400, 'invalid_body');
      expect((await consent.history('ann')).events).to.deep.equal([]);
    });

    it('keeps a context through PUT and POST /me, record() and import(), filters events by it, and refuses a bad one', async () => {
      await request(app).put('/consent/me/analytics').set('x-test-user', 'ann').send({ decision: 'granted', context: '/pricing' }).expect(200);
      await request(app).post('/consent/me').set('x-test-user', 'ann').send({ decisions: { ads: 'granted' }, context: 'banner v3' }).expect(200);
      await consent.record('bob', { analytics: 'granted' }, { context: 'signup form' });
      await consent.import([{ subjectId: 'cy', requirement: 'analytics', decision: 'granted', at: new Date(Date.now() - 1000), context: 'legacy crm' }]);
      expect((await consent.history('ann')).events.map((e) => e.context)).to.deep.equal(['banner v3', '/pricing']);
      expect((await consent.history('cy')).events[0]?.context).to.equal('legacy crm');
      const events = async (query: string): Promise<AdminEvent[]> =>
        ((await request(app).get(`/consent/admin/events${query}`).set('x-staff', 'x').expect(200)).body as { events: AdminEvent[] }).events;
      expect((await events('?context=signup%20form')).map((e) => e.subject)).to.deep.equal([consent.engine.pseudonym('bob')]);
      expect(await events('?source=import')).to.have.length(1);
      expect(await events('?source=api&context=%2Fpricing')).to.have.length(1);
      expect(await events('?actor=nobody')).to.deep.equal([]);
      expectProblem(await request(app).put('/consent/me/analytics').set('x-test-user', 'ann').send({ decision: 'granted', context: '' }), 400, 'invalid_body');
      expectProblem(await request(app).post('/consent/me').set('x-test-user', 'ann').send({ decisions: { ads: 'granted' }, context: 7 }), 400, 'invalid_body');
      expect((await consent.history('ann')).events).to.have.length(2);
      // The chain covers the context: the store still verifies.
      expect((await consent.verify()).ok).to.equal(true);
    });

    it('answers 400 naming an unknown query parameter on every admin route', async () => {
      const cases = [
        '/consent/admin/events?acter=agent-17',
        '/consent/admin/export?sauce=api',
        '/consent/admin/stats?x=1',
        '/consent/admin/subjects/ann?full=1',
        '/consent/admin/subjects/ann/history?limit=5&before=3',
        '/consent/admin/verify?subject=ann',
        '/consent/admin/requirements/analytics/subjects?allow=true',
        '/consent/admin/events?source=robot',
      ];
      for (const url of cases) {
        const body = expectProblem(await request(app).get(url).set('x-staff', 'x'), 400, 'invalid_body');
        expect(JSON.stringify(body.errors), url).to.match(/acter|sauce|"\/x"|full|before|subject|allow|source/);
      }
      const problem = expectProblem(await request(app).get('/consent/admin/events?acter=a').set('x-staff', 'x'), 400, 'invalid_body');
      expect(problem.errors).to.deep.include({ pointer: '/acter', detail: 'unknown query parameter "acter" (only requirement, action, source, context, actor, from, to, limit, cursor)' });
    });

    it('answers 400 for a parameter the query parser drops (__proto__), under Express 4 as under Express 5', async () => {
      for (const lib of [express4(), expressModule()]) {
        const host = routerApp(consent, lib);
        for (const url of ['/consent/admin/events?__proto__=1', '/consent/admin/requirements/analytics/subjects?__proto__[allowed]=false', '/consent/admin/stats?__proto__=x']) {
          const body = expectProblem(await request(host).get(url).set('x-staff', 'x'), 400, 'invalid_body');
          const pointers = (body.errors as Array<{ pointer: string; detail: string }>).map((e) => [e.pointer, e.detail.startsWith('unknown query parameter')]);
          expect(pointers, url).to.deep.equal([[url.includes('[') ? '/__proto__[allowed]' : '/__proto__', true]]);
        }
      }
    });

    it('streams an audience as CSV or NDJSON, with the subject ids and their state', async () => {
      await consent.record('ann', { analytics: 'granted' });
      await consent.record('=cmd', { analytics: 'granted' });
      await consent.record('bob', { analytics: 'denied' });
      const csv = await request(app).get('/consent/admin/requirements/analytics/subjects').set('x-staff', 'x').expect(200);
      expect(csv.headers['content-type']).to.equal('text/csv; charset=utf-8');
      expect(csv.headers['cache-control']).to.equal('no-store');
      const lines = csv.text.trim().split('\r\n');
      expect(lines[0]).to.equal('subject,state');
      expect(lines.slice(1).sort()).to.deep.equal(["'=cmd,granted", 'ann,granted']);
      const nd = await request(app).get('/consent/admin/requirements/analytics/subjects?state=denied,unset&format=ndjson').set('x-staff', 'x').expect(200);
      expect(nd.text.trim().split('\n').map((l) => JSON.parse(l) as unknown)).to.deep.equal([{ subject: 'bob', state: 'denied' }]);
      const none = await request(app).get('/consent/admin/requirements/ads/subjects').set('x-staff', 'x').expect(200);
      expect(none.text).to.equal('subject,state\r\n');
      expectProblem(await request(app).get('/consent/admin/requirements/nope/subjects').set('x-staff', 'x'), 404, 'unknown_requirement');
      expectProblem(await request(app).get('/consent/admin/requirements/analytics/subjects?state=happy').set('x-staff', 'x'), 400, 'invalid_body');
      expectProblem(await request(app).get('/consent/admin/requirements/analytics/subjects?allowed=yes').set('x-staff', 'x'), 400, 'invalid_body');
      expectProblem(await request(app).get('/consent/admin/requirements/analytics/subjects'), 403, 'forbidden');
    });
  });
}

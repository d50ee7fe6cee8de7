import { expect } from 'chai';
import express from 'express';
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import { createConsent, KnexTracker, type Consent, type RequirementDefinition } from '../../lib/index';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { BACKENDS, express4, headerSubject, memoryLogger, TEST_SECRET, type ExpressModule, type TestDatabase } from '../helpers/app';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 2, 10, 12);
const REQUIREMENTS: RequirementDefinition[] = [
  { id: 'analytics', title: 'Usage analytics', description: 'Which pages you open.' },
  { id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.' },
];
const COLUMNS = 'id,at,requirement,version,action,state,source,subject,actor,context,locale';

const text = (res: request.Response): string => res.body as string;
const lines = (body: string, separator: string): string[] => body.split(separator).filter((l) => l !== '');

/**
 * A `KnexTracker` with its own table prefix, handed to `createConsent` as `tracker` while the
 * instance keeps the default `tablePrefix`: every admin route and console page must read through
 * the tracker, so none of them may touch a `consent_` table.
 */
for (const backend of BACKENDS) {
  backend.describe(`admin routes and console over a tracker with its own table prefix (${backend.name})`, function (this: Mocha.Suite) {
    this.timeout(60_000);
    let db: TestDatabase;
    let knex: Knex;
    let consent: Consent;
    let erasedSoFar = 0;

    before(async () => {
      db = await backend.open();
      knex = knexFactory(db.config);
      let clock = NOW - 3 * DAY;
      consent = createConsent({
        tracker: new KnexTracker(knex, { tablePrefix: 'acme_' }),
        subject: headerSubject,
        secret: TEST_SECRET,
        logger: memoryLogger(),
        admin: { authorize: headerAdmin },
        now: () => new Date(clock),
      });
      consent.register(REQUIREMENTS);
      await consent.ready();
      for (const id of ['alice', 'bob', 'carol', 'dave', 'erin']) await consent.record(id, { analytics: 'granted' });
      clock = NOW;
      await consent.record('bob', { analytics: 'denied', newsletter: 'granted' });
      await consent.record('carol', { newsletter: 'denied' });
    });

    after(async () => {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
      await consent?.close();
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
      await knex?.destroy();
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
      await db?.cleanup();
    });

    const majors: Array<[string, () => ExpressModule, string]> = [['Express 5', () => express, 'dave'], ['Express 4', express4, 'erin']];
    for (const [major, lib, erased] of majors) {
      it(`answers every admin route and console page with 200 and the tracker's data (${major})`, async () => {
        const app = lib()();
        app.use('/consent', consent.router());
        const get = (path: string) => request(app).get(`/consent${path}`).set(ADMIN).buffer(true).parse((res, done) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => { body += chunk; });
          res.on('end', () => { done(null, body); });
        });

        const subject = JSON.parse(text(await get('/admin/subjects/bob').expect(200)));
        expect(subject.states.analytics.state).to.equal('denied');
        expect(subject.states.newsletter.state).to.equal('granted');
        const history = JSON.parse(text(await get('/admin/subjects/bob/history').expect(200)));
        expect(history.events.map((e: { action: string }) => e.action)).to.deep.equal(['grant', 'withdraw', 'grant']);

        const events = JSON.parse(text(await get('/admin/events?limit=200').expect(200))) as { events: Array<{ id: string; action: string }> };
        const total = events.events.length;
        expect(total).to.be.at.least(8);
        expect(events.events.filter((e: { action: string }) => e.action === 'withdraw')).to.have.length(1);

        const csv = text(await get('/admin/export?format=csv').expect(200).expect('content-type', 'text/csv; charset=utf-8'));
        expect(lines(csv, '\r\n')[0]).to.equal(COLUMNS);
        expect(lines(csv, '\r\n')).to.have.length(total + 1);
        const ndjson = text(await get('/admin/export?format=ndjson').expect(200));
        expect(lines(ndjson, '\n').map((l) => JSON.parse(l).id)).to.deep.equal(events.events.map((e: { id: string }) => e.id).reverse());

        const verify = JSON.parse(text(await get('/admin/verify').expect(200)));
        expect(verify).to.include({ ok: true, checked: total });

        const stats = JSON.parse(text(await get('/admin/stats').expect(200)));
        expect(stats.subjects).to.equal(5 - erasedSoFar);
        expect(stats.requirements.newsletter.states).to.include({ granted: 1, denied: 1 });
        expect(stats.events.withdraw).to.equal(1);

        const overview = text(await get('/admin/console/').expect(200).expect('content-type', /text\/html/));
        expect(overview).to.include(`<strong class="subjects">${String(stats.subjects)}</strong>`);
        expect(overview).to.match(/<table class="counts ec-stack" data-requirement="newsletter">/);
        expect(overview.match(/<path class="point grants"/g)).to.have.length(30);
        const today = new Date(NOW).toISOString().slice(0, 10);
        expect(overview).to.include(`data-day="${today}" data-count="1"`);
        expect(overview).to.include('href="export?format=csv"');
        expect(overview).not.to.include('class="notice"');

        const page = text(await get('/admin/console/subject?id=bob').expect(200));
        expect(page).to.include('Chain verified, no problems. Events checked: 3.');
        expect(page).to.match(/<tr data-requirement="analytics"><td data-label="Requirement" class="ec-free">analytics<\/td><td data-label="State" class="state"><span data-code="denied">denied<\/span><\/td>/);

        expect(text(await get('/admin/console/export?format=csv').expect(200))).to.equal(csv);
        expect(text(await get('/admin/console/export?format=ndjson').expect(200))).to.equal(ndjson);

        const erase = await request(app).delete(`/consent/admin/subjects/${erased}`).set(ADMIN).expect(200);
        expect(erase.body).to.deep.equal({ events: 1 });
        erasedSoFar += 1;

        // Everything went to the tracker's own tables.
        expect(await knex.schema.hasTable('consent_events')).to.equal(false);
        // The subjects' records are in the subject rows, pending confirmations in their own table.
        expect(await knex.schema.hasTable('consent_subjects')).to.equal(false);
        expect(await knex('acme_subjects').whereNotNull('records').count({ n: '*' }).first().then((r) => Number(r?.n))).to.be.above(0);
      });
    }
  });
}

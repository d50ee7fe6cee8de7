import { expect } from 'chai';
import express from 'express';
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import { createConsent, type CollectedConsent, type ConfirmationPayload, type Consent, type ConsentOptions } from '../../lib/index';
import {
  BACKENDS as DATABASES, REQUIREMENTS, TEST_SECRET, express4, headerSubject, memoryLogger, routerApp, type ExpressModule, type TestDatabase,
} from '../helpers/app';
import { expectProblem } from '../helpers/problem';

const START = Date.parse('2026-03-01T12:00:00.000Z');
// The default of confirm.resendAfterMs: ten minutes.
const WINDOW = 600_000;
const EXPRESS: Array<[string, () => ExpressModule]> = [
  ['Express 5', () => express],
  ['Express 4', express4],
];
const as = (user: string) => ({ 'x-test-user': user });
const grant = { decision: 'granted' };

/** A consent instance over `db` with a settable clock, counting the confirmations it sends. */
async function open(db: TestDatabase, clock: { ms: number }, options: ConsentOptions = {}, requirements = REQUIREMENTS, beforeReady?: (consent: Consent) => void) {
  const knex = knexFactory(db.config);
  const consent = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), now: () => new Date(clock.ms), sweep: false, ...options });
  consent.register(requirements);
  const links: ConfirmationPayload[] = [];
  consent.on('confirmation', (payload) => void links.push(payload));
  beforeReady?.(consent);
  await consent.ready();
  return {
    consent,
    knex,
    links,
    async close() {
      await consent.close();
      await knex.destroy();
    },
  };
}

/** Actions of the subject's history for one requirement, oldest first, with their versions. */
async function requests(consent: Consent, subject: string): Promise<string[]> {
  const { events } = await consent.history(subject, { requirement: 'newsletter', limit: 200 });
  return events.reverse().map((e) => `${e.action}@${String(e.version)}`);
}

const outboxConfirmations = async (knex: Knex) =>
  Number((await knex('consent_outbox').where({ event: 'confirmation' }).count({ n: '*' }))[0]!.n);

for (const backend of DATABASES) {
  for (const [label, lib] of EXPRESS) {
    backend.describe(`repeated double opt-in requests through HTTP (${backend.name}, ${label})`, () => {
      let db: TestDatabase;
      let clock: { ms: number };
      let t: Awaited<ReturnType<typeof open>>;
      const app = () => routerApp(t.consent, lib());

      beforeEach(async () => {
        db = await backend.open();
        clock = { ms: START };
        t = await open(db, clock);
      });
      afterEach(async () => {
        await t.close();
        await db.cleanup();
      });

      it('20 identical PUTs within confirm.resendAfterMs send one confirmation; its link stays valid', async () => {
        const first = await request(app()).put('/consent/me/newsletter').set(as('ana')).send(grant).expect(202);
        expect(first.body).to.include({ state: 'pending', expiresAt: t.links[0]!.expiresAt });
        for (let i = 1; i < 20; i += 1) {
          clock.ms += 30_000;
          const again = await request(app()).put('/consent/me/newsletter').set(as('ana')).send(grant).expect(202);
          expect(again.body).to.deep.equal(first.body);
        }
        expect(t.links).to.have.length(1);
        expect(await requests(t.consent, 'ana')).to.deep.equal(['request@1']);
        await request(app()).post(`/consent/confirm/${t.links[0]!.token}`).expect(200);
        expect(await requests(t.consent, 'ana')).to.deep.equal(['request@1', 'confirm@1']);
      });

      it('POST /me re-uses the pending request and records the rest of the batch', async () => {
        const body = { decisions: { newsletter: 'granted', analytics: 'granted' } };
        const first = await request(app()).post('/consent/me').set(as('ben')).send(body).expect(200);
        clock.ms += 1_000;
        const second = await request(app()).post('/consent/me').set(as('ben')).send(body).expect(200);
        expect(second.body.states.newsletter).to.deep.equal(first.body.states.newsletter);
        expect(second.body.states.analytics).to.include({ state: 'granted', decidedAt: new Date(START + 1_000).toISOString() });
        expect(t.links).to.have.length(1);
        expect(await requests(t.consent, 'ben')).to.deep.equal(['request@1']);
      });

      it('once the window has passed, a request sends a new link that supersedes the old one', async () => {
        await request(app()).put('/consent/me/newsletter').set(as('cy')).send(grant).expect(202);
        clock.ms = START + WINDOW - 1;
        await request(app()).put('/consent/me/newsletter').set(as('cy')).send(grant).expect(202);
        expect(t.links).to.have.length(1);
        clock.ms = START + WINDOW;
        const renewed = await request(app()).put('/consent/me/newsletter').set(as('cy')).send(grant).expect(202);
        expect(t.links).to.have.length(2);
        expect(renewed.body.expiresAt).to.equal(t.links[1]!.expiresAt).and.not.equal(t.links[0]!.expiresAt);
        expect(await requests(t.consent, 'cy')).to.deep.equal(['request@1', 'request@1']);
        expectProblem(await request(app()).post(`/consent/confirm/${t.links[0]!.token}`), 404, 'token_invalid');
        await request(app()).post(`/consent/confirm/${t.links[1]!.token}`).expect(200);
      });

      it('concurrent identical requests send at most one confirmation', async () => {
        const answers = await Promise.all(
          Array.from({ length: 10 }, () => request(app()).put('/consent/me/newsletter').set(as('dee')).send(grant)),
        );
        expect(answers.map((a) => a.status)).to.deep.equal(Array(10).fill(202));
        expect(new Set(answers.map((a) => a.body.expiresAt)).size).to.equal(1);
        expect(t.links).to.have.length(1);
        expect(await requests(t.consent, 'dee')).to.deep.equal(['request@1']);
      });

      it('a repeated request after a confirmation, a denial or a version bump is not a repeat', async () => {
        await request(app()).put('/consent/me/newsletter').set(as('eve')).send(grant).expect(202);
        await request(app()).post(`/consent/confirm/${t.links[0]!.token}`).expect(200);
        // Confirmed: granting again records a grant, not a request.
        await request(app()).put('/consent/me/newsletter').set(as('eve')).send(grant).expect(200);
        await request(app()).delete('/consent/me/newsletter').set(as('eve')).expect(200);
        await request(app()).put('/consent/me/newsletter').set(as('eve')).send(grant).expect(202);
        expect(t.links).to.have.length(2);

        await t.close();
        const v2 = REQUIREMENTS.map((r) => (r.id === 'newsletter' ? { ...r, version: 2, description: 'Two e-mails a month.' } : r));
        t = await open(db, clock, {}, v2);
        const asked = await request(app()).put('/consent/me/newsletter').set(as('eve')).send(grant).expect(202);
        expect(t.links).to.have.length(1);
        expect(t.links[0]).to.include({ version: 2, expiresAt: asked.body.expiresAt });
        expect(asked.body).to.include({ version: 2 });
        expect(await requests(t.consent, 'eve')).to.deep.equal(['request@1', 'confirm@1', 'grant@1', 'withdraw@1', 'request@1', 'request@2']);
      });
    });
  }

  backend.describe(`repeated double opt-in requests through the library (${backend.name})`, () => {
    let db: TestDatabase;
    const clock = { ms: START };
    let t: Awaited<ReturnType<typeof open>>;

    beforeEach(async () => {
      db = await backend.open();
      clock.ms = START;
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('record() re-uses the pending request: no event, no token, no outbox entry', async () => {
      // A durable handler that keeps failing leaves every entry in the outbox, where it is counted.
      const mailer = (consent: Consent) => { consent.on('confirmation', () => Promise.reject(new Error('mailer down')), { name: 'mailer' }); };
      t = await open(db, clock, { outbox: { retryMs: 3_600_000, maxRetryMs: 3_600_000 } }, REQUIREMENTS, mailer);
      const first = await t.consent.record('fay', { newsletter: 'granted' });
      clock.ms += WINDOW - 1;
      const second = await t.consent.record('fay', { newsletter: 'granted' }, { source: 'api', note: 'again' });
      expect(second.states.newsletter).to.deep.equal(first.states.newsletter);
      expect(second.pending).to.deep.equal(first.pending);
      expect(t.links).to.have.length(1);
      expect(await outboxConfirmations(t.knex)).to.equal(1);
      expect(await requests(t.consent, 'fay')).to.deep.equal(['request@1']);
      expect(await t.consent.verify({ subjectId: 'fay' })).to.include({ ok: true, checked: 1 });
      clock.ms += 1;
      await t.consent.record('fay', { newsletter: 'granted' });
      expect(t.links).to.have.length(2);
      expect(await outboxConfirmations(t.knex)).to.equal(2);
      expect(await t.consent.verify()).to.include({ ok: true, checked: 2 });
    });

    it('collect() commits re-use the pending request too', async () => {
      t = await open(db, clock);
      const app = express();
      app.post('/signup', express.urlencoded({ extended: true }), t.consent.collect(['newsletter']), async (_req, res, next) => {
        try {
          res.json(await (res.locals.consent as CollectedConsent).commit('gil'));
        } catch (error) {
          next(error);
        }
      });
      const first = await request(app).post('/signup').type('form').send('consent[newsletter]=on').expect(200);
      clock.ms += 60_000;
      const second = await request(app).post('/signup').type('form').send('consent[newsletter]=on').expect(200);
      expect(second.body.states.newsletter).to.deep.equal(first.body.states.newsletter).and.include({ state: 'pending' });
      expect(t.links).to.have.length(1);
      expect(await requests(t.consent, 'gil')).to.deep.equal(['request@1']);
    });

    it('confirm.resendAfterMs: 0 sends a confirmation for every request, each superseding the last', async () => {
      t = await open(db, clock, { confirm: { resendAfterMs: 0 } });
      for (let i = 0; i < 3; i += 1) await t.consent.record('hal', { newsletter: 'granted' });
      expect(t.links).to.have.length(3);
      expect(new Set(t.links.map((l) => l.token)).size).to.equal(3);
      expect(await requests(t.consent, 'hal')).to.deep.equal(['request@1', 'request@1', 'request@1']);
    });
  });
}

// Two instances with their own pools, as two processes would have.
for (const backend of DATABASES.filter((b) => b.name === 'PostgreSQL')) {
  backend.describe('repeated double opt-in requests from two processes (PostgreSQL)', () => {
    it('concurrent identical requests through both send one confirmation', async () => {
      const db = await backend.open();
      const clock = { ms: START };
      const instances = [await open(db, clock), await open(db, clock)];
      try {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => instances[i % 2]!.consent.record('ivo', { newsletter: 'granted' })),
        );
        expect(new Set(results.map((r) => r.states.newsletter!.expiresAt)).size).to.equal(1);
        expect(instances[0]!.links.length + instances[1]!.links.length).to.equal(1);
        expect(await requests(instances[0]!.consent, 'ivo')).to.deep.equal(['request@1']);
      } finally {
        for (const instance of instances) await instance.close();
        await db.cleanup();
      }
    });
  });
}

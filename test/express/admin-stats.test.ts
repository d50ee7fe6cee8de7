import { expect } from 'chai';
import knexFactory from 'knex';
import request from 'supertest';
import { createConsent, type RequirementDefinition } from '../../lib/index';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { BACKENDS, headerSubject, memoryLogger, routerApp, TEST_SECRET, testConsent, type TestDatabase } from '../helpers/app';

const DAY = 86_400_000;
const T0 = Date.parse('2026-05-01T00:00:00.000Z');
const V1: RequirementDefinition[] = [
  { id: 'a', title: 'A', description: 'Requirement a.', expiresAfterDays: 10 },
  { id: 'n', title: 'N', description: 'Double opt-in.', doubleOptIn: true },
];
const V2: RequirementDefinition[] = [{ ...(V1[0] as RequirementDefinition), version: 2, title: 'A, reworded' }, V1[1] as RequirementDefinition];

const counts = (c: Partial<Record<string, number>>) => ({ granted: 0, denied: 0, pending: 0, unset: 0, expired: 0, outdated: 0, ...c });
const noUnset = (c: Partial<Record<string, number>>) => {
  const { unset: _unset, ...rest } = counts(c);
  return rest;
};

for (const backend of BACKENDS) {
  backend.describe(`GET /admin/stats (${backend.name})`, () => {
    let db: TestDatabase;
    const closers: Array<() => Promise<void>> = [];
    let clock = T0;
    const options = { admin: { authorize: headerAdmin }, now: () => new Date(clock) };

    beforeEach(async () => {
      db = await backend.open();
      clock = T0;
    });
    afterEach(async () => {
      while (closers.length > 0) await (closers.pop() as () => Promise<void>)();
      await db.cleanup();
    });

    it('counts subjects per state and version, and events per action, as recorded', async () => {
      const t = await testConsent(db, options, V1);
      closers.push(t.close);
      const app = routerApp(t.consent);
      await t.consent.record('alice', { a: 'granted' });
      await t.consent.record('bob', { a: 'denied' });
      await t.consent.record('carol', { n: 'granted' });
      await t.consent.record('dave', { a: 'granted' });
      clock = T0 + 5 * DAY;
      await t.consent.record('eve', { a: 'granted', n: 'denied' });

      const day5 = (await request(app).get('/consent/admin/stats').set(ADMIN).expect(200)).body;
      expect(day5.subjects).to.equal(5);
      expect(day5.requirements.a).to.deep.equal({ version: 1, states: counts({ granted: 3, denied: 1, unset: 1 }), versions: { 1: noUnset({ granted: 3, denied: 1 }) } });
      // Carol's confirmation token (48 h) lapsed: her request falls back to unset.
      expect(day5.requirements.n.states).to.deep.equal(counts({ denied: 1, unset: 4 }));
      expect(day5.events).to.deep.equal({ grant: 3, deny: 2, withdraw: 0, request: 1, confirm: 0, expire: 0, erase: 0 });

      clock = T0 + 11 * DAY;
      const day11 = (await request(app).get('/consent/admin/stats').set(ADMIN).expect(200)).body;
      expect(day11.requirements.a.states).to.deep.equal(counts({ granted: 1, expired: 2, denied: 1, unset: 1 }));
      // Each number agrees with what /admin/subjects says of each subject.
      const states: string[] = [];
      for (const id of ['alice', 'bob', 'carol', 'dave', 'eve']) {
        states.push((await request(app).get(`/consent/admin/subjects/${id}`).set(ADMIN).expect(200)).body.states.a.state);
      }
      expect(states.sort()).to.deep.equal(['denied', 'expired', 'expired', 'granted', 'unset']);

      await request(app).delete('/consent/admin/subjects/bob').set(ADMIN).expect(200);
      const erased = (await request(app).get('/consent/admin/stats').set(ADMIN).expect(200)).body;
      expect(erased.subjects).to.equal(4);
      expect(erased.requirements.a.states).to.deep.equal(counts({ granted: 1, expired: 2, unset: 1 }));
      expect(erased.events).to.deep.include({ deny: 2, erase: 1 });
    });

    it('counts every subject of a store that takes several pages to read', async () => {
      const t = await testConsent(db, options, V1);
      closers.push(t.close);
      const app = routerApp(t.consent);
      // More than two pages of 5,000 subject rows: every seventh denied, every third also asked for n.
      const subjects = 12_345;
      const decisions = Array.from({ length: subjects }, (_, i) => [
        { subjectId: `s${String(i)}`, requirement: 'a', decision: i % 7 === 0 ? 'denied' : 'granted', at: new Date(T0 - DAY) },
        ...(i % 3 === 0 ? [{ subjectId: `s${String(i)}`, requirement: 'n', decision: 'denied', at: new Date(T0 - DAY) }] : []),
      ]).flat();
      await t.consent.import(decisions);
      const denied = Math.ceil(subjects / 7);
      const body = (await request(app).get('/consent/admin/stats').set(ADMIN).expect(200)).body;
      expect(body.subjects).to.equal(subjects);
      expect(body.requirements.a.states).to.deep.equal(counts({ granted: subjects - denied, denied }));
      expect(body.requirements.n.states).to.deep.equal(counts({ denied: Math.ceil(subjects / 3), unset: subjects - Math.ceil(subjects / 3) }));
    });

    it('lists the outbox entries still to deliver per durable handler, one that no process registers any more included', async () => {
      const knex = knexFactory(db.config);
      const mailing = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), ...options });
      mailing.register(V1);
      mailing.on('change', () => Promise.reject(new Error('the mail server is down')), { name: 'mailer' });
      closers.push(async () => {
        await mailing.close();
        await knex.destroy();
      });
      await mailing.ready();
      await mailing.record('alice', { a: 'granted' });
      clock = T0 + 1000;
      await mailing.record('bob', { a: 'denied' });
      expect((await request(routerApp(mailing)).get('/consent/admin/stats').set(ADMIN).expect(200)).body.outbox)
        .to.have.keys(['mailer']);
      // A later release without the mailer: its entries stay, and the stats say so.
      const later = await testConsent(db, options, V1);
      closers.push(later.close);
      const stats = (await request(routerApp(later.consent)).get('/consent/admin/stats').set(ADMIN).expect(200)).body;
      expect(stats.outbox.mailer.entries).to.equal(2);
      expect(Date.parse(stats.outbox.mailer.earliestDueAt)).to.be.at.least(T0);
      await later.consent.erase('alice');
      await later.consent.erase('bob');
      expect((await request(routerApp(later.consent)).get('/consent/admin/stats').set(ADMIN).expect(200)).body.outbox).to.deep.equal({});
    });

    it('counts a pending double opt-in, and grants of an older version as outdated', async () => {
      const first = await testConsent(db, options, V1);
      closers.push(first.close);
      await first.consent.record('alice', { a: 'granted', n: 'granted' });
      await first.consent.record('bob', { a: 'granted' });
      const pending = (await request(routerApp(first.consent)).get('/consent/admin/stats').set(ADMIN).expect(200)).body;
      expect(pending.requirements.n).to.deep.equal({ version: 1, states: counts({ pending: 1, unset: 1 }), versions: { 1: noUnset({ pending: 1 }) } });

      clock = T0 + DAY;
      const second = await testConsent(db, options, V2);
      closers.push(second.close);
      await second.consent.record('carol', { a: 'granted' });
      const bumped = (await request(routerApp(second.consent)).get('/consent/admin/stats').set(ADMIN).expect(200)).body;
      expect(bumped.requirements.a).to.deep.equal({
        version: 2,
        states: counts({ outdated: 2, granted: 1 }),
        versions: { 1: noUnset({ outdated: 2 }), 2: noUnset({ granted: 1 }) },
      });
    });
  });
}

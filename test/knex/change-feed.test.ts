import { expect } from 'chai';
import request from 'supertest';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent, type ConsentOptions } from '../../lib/index';
import { BACKENDS, REQUIREMENTS, TEST_SECRET, headerSubject, memoryLogger, type TestDatabase } from '../helpers/consent-setup';
import { guardApp } from '../helpers/guard-app';
import { CountingTracker } from '../helpers/trackers';
import { waitUntil } from '../core/wait-until';

// Longer than the PostgreSQL listener's heartbeat (1 s), so that a healthy feed vouches for
// entries without pause; short enough that waiting past it keeps the test brief.
const TTL_MS = 2_500;
// Only the feed can make an instance with this lifetime see a change within a test.
const LONG = { max: 100, ttlMs: 600_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const as = (user: string) => ({ 'x-test-user': user });

for (const backend of BACKENDS) {
  backend.describe(`change feed keeps the state cache current (${backend.name})`, function (this: Mocha.Suite) {
    this.timeout(30_000);
    let db: TestDatabase;
    let knex: Knex;
    const opened: Consent[] = [];

    function open(options: ConsentOptions = {}): Promise<Consent> {
      const consent = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), cache: { max: 100, ttlMs: TTL_MS }, ...options });
      consent.register(REQUIREMENTS);
      opened.push(consent);
      return consent.ready().then(() => consent);
    }

    beforeEach(async () => {
      db = await backend.open();
      knex = knexFactory(db.config);
    });
    afterEach(async () => {
      for (const consent of opened.splice(0)) await consent.close();
      await knex.destroy();
      await db.cleanup();
    });

    it('serves a state past ttlMs without reading the store again while the feed is healthy', async () => {
      const tracker = new CountingTracker(knex);
      const consent = await open({ tracker, knex: undefined });
      const { app } = guardApp(consent);
      await consent.record('ann', { analytics: 'granted' });
      // The write's own notice (PostgreSQL) must not arrive after the state is cached below.
      await waitUntil(() => consent.engine.notifications > 0, 'the feed to report the write');
      await request(app).get('/track').set(as('ann')).expect(200);
      const reads = tracker.reads;
      await sleep(TTL_MS + 500);
      for (let i = 0; i < 5; i += 1) await request(app).get('/track').set(as('ann')).expect(200);
      expect(tracker.reads, 'no read, in the foreground or in the background').to.equal(reads);
    });

    it('drops a state written by another instance on the same Knex as soon as that write has committed', async () => {
      const a = await open();
      const b = await open({ cache: LONG });
      const { app } = guardApp(b);
      await a.record('bo', { analytics: 'granted' });
      await waitUntil(async () => (await request(app).get('/track').set(as('bo'))).status === 200, 'b to see the grant');
      await a.record('bo', { analytics: 'denied' });
      if (backend.name === 'SQLite file') {
        // One connection: the commit is invisible to PRAGMA data_version, so the trackers tell each other.
        await request(app).get('/track').set(as('bo')).expect(403);
      } else {
        await waitUntil(async () => (await request(app).get('/track').set(as('bo'))).status === 403, 'b to refuse');
      }
    });

    it('drops a state changed through another connection, and an erased subject, within the feed\'s delay', async () => {
      const a = await open();
      const other = knexFactory(db.config);
      try {
        const b = await open({ knex: other, cache: LONG });
        const { app } = guardApp(b);
        await a.record('cy', { analytics: 'granted' });
        await waitUntil(async () => (await request(app).get('/track').set(as('cy'))).status === 200, 'b to see the grant');
        await a.erase('cy');
        await waitUntil(async () => (await request(app).get('/track').set(as('cy'))).status === 403, 'b to refuse the erased subject');
        expect((await b.states('cy')).analytics?.state).to.equal('unset');
      } finally {
        for (const consent of opened.splice(1)) await consent.close();
        await other.destroy();
      }
    });

    if (backend.name === 'SQLite file') {
      it('polls once per Knex for all the instances on it (tenants by table prefix), and not after the last one closed', async () => {
        let polls = 0;
        knex.on('query', (q: { sql: string }) => { if (q.sql.includes('data_version')) polls += 1; });
        const tenants = await Promise.all(Array.from({ length: 10 }, (_, i) => open({ tablePrefix: `t${String(i)}_`, cache: LONG })));
        const other = knexFactory(db.config);
        try {
          const writer = createConsent({ knex: other, tablePrefix: 't7_', subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger() });
          writer.register(REQUIREMENTS);
          const { app } = guardApp(tenants[7] as Consent);
          await writer.record('di', { analytics: 'granted' });
          await waitUntil(async () => (await request(app).get('/track').set(as('di'))).status === 200, 'tenant 7 to see the grant');
          const start = Date.now();
          const before = polls;
          await sleep(1_000);
          // One timer fires at most once per 100 ms however loaded the machine; ten would poll ten times as often.
          expect(polls - before).to.be.at.most(Math.ceil((Date.now() - start) / 100) + 2);
          // Every tenant closed but the one guarding: the poll goes on for it.
          const watching = tenants[7] as Consent;
          for (const consent of opened.splice(0).filter((c) => c !== watching)) await consent.close();
          opened.push(watching);
          await writer.record('di', { analytics: 'denied' });
          await waitUntil(async () => (await request(app).get('/track').set(as('di'))).status === 403, 'the last tenant to go on seeing changes');
          await writer.close();
          for (const consent of opened.splice(0)) await consent.close();
          const after = polls;
          await sleep(300);
          expect(polls).to.equal(after);
        } finally {
          await other.destroy();
        }
      });
    }
  });
}

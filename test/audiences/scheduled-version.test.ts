import { expect } from 'chai';
import { audienceThreads } from '../../lib/core/audience-checks';
import { audienceWorkers } from '../../lib/core/audience-pool';
import type { RequirementDefinition } from '../../lib/index';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';

const START = Date.parse('2027-01-01T00:00:00.000Z');
const T = START + 10_000;

/** Version 1 now, version 2 (a new text) from `T`. */
const SCHEDULED: RequirementDefinition[] = [
  { id: 'stats', version: 1, title: 'Statistics', description: 'We count page views.' },
  { id: 'stats', version: 2, title: 'Statistics', description: 'We count page views and clicks.', effectiveFrom: new Date(T) },
];

for (const backend of BACKENDS) {
  backend.describe(`audience() and filterAllowed() across the start of a version (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let clock = START;

    beforeEach(async () => {
      clock = START;
      db = await backend.open();
      t = await testConsent(db, { now: () => new Date(clock) }, SCHEDULED);
      for (const subject of ['s1', 's2', 's3', 's4']) await t.consent.record(subject, { stats: 'granted' });
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('audience() stops listing grants of the older text from the page read after it', async () => {
      const listed: string[] = [];
      for await (const id of t.consent.audience('stats', { batchSize: 1 })) {
        listed.push(id);
        clock = T;
      }
      expect(listed).to.have.length(1);
      expect(await t.consent.isAllowed(listed[0] as string, 'stats')).to.equal(false, 'outdated from T on');
    });

    it('filterAllowed() judges each batch by the version current when it is handed out, on threads too', async () => {
      // 1000 ids make the first batch; the next holds s2, handed out after the start.
      const ids = ['s1', ...Array.from({ length: 999 }, (_, i) => `nobody-${String(i)}`), 's2'];
      const saved = { ...audienceThreads, size: audienceWorkers.size };
      try {
        for (const threads of [false, true]) {
          // Threads judge every batch from the first (a batch read ahead is judged before the start).
          if (threads) Object.assign(audienceThreads, { minSubjects: 0, measuredPages: 0, mainBound: 1e9 });
          audienceWorkers.size = 2;
          clock = START;
          const lookups = audienceWorkers.lookups;
          const allowed: string[] = [];
          for await (const id of t.consent.filterAllowed(ids, 'stats')) {
            allowed.push(id);
            // On threads, once both batches were judged before the start (up to five seconds).
            const deadline = Date.now() + 5000;
            while (threads && clock === START && audienceWorkers.lookups < lookups + 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
            clock = T;
          }
          expect(allowed, `threads ${String(threads)}`).to.deep.equal(['s1']);
          expect(audienceWorkers.lookups - lookups).to.equal(threads ? 2 : 0);
        }
      } finally {
        Object.assign(audienceThreads, { minSubjects: saved.minSubjects, measuredPages: saved.measuredPages, mainBound: saved.mainBound });
        audienceWorkers.size = saved.size;
      }
    });
  });
}

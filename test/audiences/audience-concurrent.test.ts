import { expect } from 'chai';
import type { Consent } from '../../lib/index';
import { BACKENDS, memoryLogger, testConsent, type TestDatabase } from '../helpers/consent-setup';

const SUBJECTS = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay'];

for (const backend of BACKENDS) {
  backend.describe(`audiences while decisions are written (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;
    let logger: ReturnType<typeof memoryLogger>;

    beforeEach(async () => {
      db = await backend.open();
      logger = memoryLogger();
      t = await testConsent(db, { logger, cache: false });
      consent = t.consent;
      for (const subject of SUBJECTS) await consent.record(subject, { analytics: 'granted' });
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('reads each page whole: a write while the next page is read is no seal failure', async () => {
      const listed: string[] = [];
      for await (const id of consent.audience('analytics', { batchSize: 1 })) {
        listed.push(id);
        // The next page is being read now: every other subject changes under it.
        await Promise.all(SUBJECTS.filter((s) => !listed.includes(s)).map((s) => consent.record(s, { ads: listed.length % 2 === 0 ? 'granted' : 'denied' })));
      }
      expect(listed.sort()).to.deep.equal([...SUBJECTS].sort());
      expect(logger.errors).to.deep.equal([]);
    });
  });
}

import { expect } from 'chai';
import knexFactory from 'knex';
import { createConsent, ConsentError } from '../../lib/index';
import { BACKENDS, REQUIREMENTS, TEST_SECRET, memoryLogger } from '../helpers/consent-setup';
import { describeEachDatabase } from '../helpers/each-database';
import { StalledWriteTracker } from '../helpers/faults';

const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];

describe('a write that misses storeTimeoutMs but commits later', () => {
  it('does not leave the old state in the cache, before or after the late commit', async () => {
    const db = await sqlite.open();
    const knex = knexFactory(db.config);
    const tracker = new StalledWriteTracker(knex);
    const consent = createConsent({ tracker, secret: TEST_SECRET, logger: memoryLogger(), storeTimeoutMs: 100, cache: { max: 100, ttlMs: 3_600_000 } });
    consent.register(REQUIREMENTS);
    try {
      await consent.ready();
      tracker.stall = false;
      await consent.record('ann', { analytics: 'granted' });
      expect((await consent.states('ann')).analytics?.state).to.equal('granted');
      tracker.stall = true;
      const error = await consent.record('ann', { analytics: 'denied' }).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(ConsentError).with.property('code', 'store_unavailable');
      // Read while the timed-out write is still open: this caches the pre-write state again.
      expect((await consent.states('ann')).analytics?.state).to.equal('granted');
      await tracker.release();
      // The write committed after all: the very next read must see the withdrawal.
      expect((await consent.states('ann')).analytics?.state).to.equal('denied');
      expect(await consent.isAllowed('ann', 'analytics')).to.equal(false);
    } finally {
      await tracker.release();
      await consent.close();
      await knex.destroy();
      await db.cleanup();
    }
  });
});

describeEachDatabase('an erasure that misses storeTimeoutMs but commits later', (open) => {
  it('leaves no cached grant of the erased subject behind, before or after the late commit', async () => {
    const db = await open();
    const tracker = new StalledWriteTracker(db.knex);
    const consent = createConsent({ tracker, secret: TEST_SECRET, logger: memoryLogger(), storeTimeoutMs: 100, cache: { max: 100, ttlMs: 3_600_000 } });
    consent.register(REQUIREMENTS);
    try {
      await consent.ready();
      tracker.stall = false;
      await consent.record('ann', { analytics: 'granted' });
      expect(await consent.isAllowed('ann', 'analytics')).to.equal(true);
      tracker.stall = true;
      const error = await consent.erase('ann').then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(ConsentError).with.property('code', 'store_unavailable');
      // Read while the timed-out erasure is still open: the grant still stands, and is cached again.
      expect(await consent.isAllowed('ann', 'analytics')).to.equal(true);
      await tracker.release();
      // The erasure committed after all: the very next check must not find the grant.
      expect(await consent.isAllowed('ann', 'analytics')).to.equal(false);
      expect((await consent.states('ann')).analytics?.state).to.equal('unset');
    } finally {
      await tracker.release();
      await consent.close();
      await db.release();
    }
  });
});

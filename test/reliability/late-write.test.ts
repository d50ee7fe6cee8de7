import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import type { SubjectSnapshot, WritePlan } from '../../lib/tracker';
import { BACKENDS, REQUIREMENTS, TEST_SECRET, memoryLogger, type TestDatabase } from '../helpers/app';

/**
 * A Knex tracker whose next write waits until `release()` before it starts: a write held in the
 * queue, or behind another transaction's lock, for longer than its caller waits.
 */
class HeldTracker extends KnexTracker {
  private held: Promise<void> | null = null;
  private opened: () => void = () => undefined;
  private late: Promise<unknown> = Promise.resolve();

  holdNext(): void {
    this.held = new Promise<void>((resolve) => { this.opened = resolve; });
  }

  /** Lets the held write go on, and waits for it to settle. */
  async release(): Promise<unknown> {
    this.opened();
    return this.late.then(() => null, (error: unknown) => error);
  }

  override write<T>(pseudonym: string, plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T }): Promise<{ result: T; eventIds: string[] }> {
    const held = this.held;
    this.held = null;
    if (held === null) return super.write(pseudonym, plan);
    const write = held.then(() => super.write(pseudonym, plan));
    this.late = write;
    return write;
  }
}

const failure = (call: Promise<unknown>): Promise<unknown> => call.then(() => null, (error: unknown) => error);

for (const backend of BACKENDS) {
  backend.describe(`a write that missed its deadline (${backend.name})`, () => {
    let db: TestDatabase;
    let knex: Knex;
    let tracker: HeldTracker;
    let consent: Consent;

    beforeEach(async () => {
      db = await backend.open();
      knex = knexFactory(db.config);
      tracker = new HeldTracker(knex);
      consent = createConsent({ tracker, secret: TEST_SECRET, logger: memoryLogger(), storeTimeoutMs: 1_000, sweep: false });
      consent.register(REQUIREMENTS);
      await consent.ready();
    });
    afterEach(async () => {
      await consent.close();
      await knex.destroy();
      await db.cleanup();
    });

    it('is not made once its caller was answered: it cannot overtake a decision made and answered since', async () => {
      tracker.holdNext();
      const grant = await failure(consent.record('yan', { analytics: 'granted' }));
      expect(grant).to.include({ code: 'store_unavailable' });
      // The person decides again, and that answer is acknowledged.
      await consent.record('yan', { analytics: 'denied' });
      // The held grant reaches the store only now: it is refused, not written.
      const late = await tracker.release();
      expect(late).to.include({ code: 'store_unavailable' });
      expect((late as Error).message).to.match(/waited past its 1000 ms deadline and was not made/);
      expect((await consent.history('yan')).events.map((e) => `${e.action}/${e.state}`)).to.deep.equal(['deny/denied']);
      expect(await consent.isAllowed('yan', 'analytics')).to.equal(false);
      expect((await consent.verify()).ok).to.equal(true);
    });

    it('is made when it reaches the store in time', async () => {
      tracker.holdNext();
      const write = consent.record('zoe', { analytics: 'granted' });
      setTimeout(() => { void tracker.release(); }, 20);
      expect((await write).states.analytics?.state).to.equal('granted');
    });
  });
}

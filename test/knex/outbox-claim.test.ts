import { expect } from 'chai';
import { KnexTracker } from '../../lib/index';
import { eventAfter, planOf, pseudonymFor } from '../../lib/testing/fixtures';
import { statementsDuring } from '../helpers/count-statements';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

describeEachDatabase('outbox claims', (open) => {
  let db: TestDatabase;
  let tracker: KnexTracker;

  beforeEach(async () => {
    db = await open();
    tracker = new KnexTracker(db.knex);
    await tracker.init({ migrate: true });
  });
  afterEach(() => db.release());

  it('claims a batch with one statement that returns its rows, oldest first: no read of the table by claim', async () => {
    for (let i = 0; i < 60; i += 1) {
      const outbox = [{ handler: 'mail', event: 'change' as const, eventIndex: 0, payload: `n${String(i)}`, availableAt: 1_000 }];
      await tracker.write(pseudonymFor(`p-claim-${String(i)}`), (s) => ({ plan: { ...planOf(s, [eventAfter(s, 1)], []), outbox }, result: null }));
    }
    const query = { handlers: ['mail'], now: 1_000, leaseMs: 60_000, limit: 50 };
    let claimed: Awaited<ReturnType<NonNullable<KnexTracker['claimOutbox']>>> = [];
    const statements = await statementsDuring(db.knex, /outbox/i, async () => { claimed = await tracker.claimOutbox(query); });
    expect(statements).to.have.length(1);
    expect(statements[0]).to.match(/^update /i).and.match(/returning/i);
    expect(claimed.map((c) => c.payload)).to.deep.equal(Array.from({ length: 50 }, (_, i) => `n${String(i)}`));
    expect(new Set(claimed.map((c) => c.claim)).size).to.equal(1);
    expect(await Promise.all(claimed.slice(0, 3).map((c) => tracker.outboxClaimed(c)))).to.deep.equal([true, true, true]);
    const rest = await tracker.claimOutbox(query);
    expect(rest.map((c) => c.payload)).to.deep.equal(Array.from({ length: 10 }, (_, i) => `n${String(50 + i)}`));
  });
});

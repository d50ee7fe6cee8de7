import { expect } from 'chai';
import { dailySeries, windowStart } from '../../lib/core/admin-stats';
import { createConsent, KnexTracker } from '../../lib/index';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const DAY = 86_400_000;

describeEachDatabase('daily grant and withdrawal counts through the tracker', (open) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await open();
  });
  afterEach(() => db.release());

  it('counts per UTC day, zero-fills the window and leaves older days out', async () => {
    const now = Date.UTC(2026, 0, 31, 0, 30);
    let clock = now - 40 * DAY;
    const consent = createConsent({ knex: db.knex, secret: 's'.repeat(32), now: () => new Date(clock), logger: { warn() {}, error() {} } });
    consent.register({ id: 'news', title: 'News', description: 'Mail.' });
    await consent.ready();
    await consent.record('old', { news: 'granted' });
    clock = Date.UTC(2026, 0, 30, 23, 59);
    await consent.record('a', { news: 'granted' });
    await consent.record('b', { news: 'granted' });
    clock = now;
    await consent.record('a', { news: 'denied' });
    await consent.record('c', { news: 'denied' });
    await consent.close();
    const tracker = new KnexTracker(db.knex);
    const days = dailySeries(await tracker.dailyCounts(windowStart(now, 30)), now);
    expect(days).to.have.length(30);
    expect(days[0]?.day).to.equal('2026-01-02');
    expect(days.at(-2)).to.deep.equal({ day: '2026-01-30', grants: 2, withdrawals: 0 });
    expect(days.at(-1)).to.deep.equal({ day: '2026-01-31', grants: 0, withdrawals: 1 });
    expect(days.slice(0, -2).every((d) => d.grants === 0 && d.withdrawals === 0)).to.equal(true);
  });
});

import assert from 'node:assert/strict';
import type { ConsentTracker } from '../tracker/tracker';
import { planErase } from '../state/plan-erase';
import { eventAfter, FIXTURE_KEY, grantedRecord, planOf } from './fixtures';
import type { Define } from './harness';

async function seed(tracker: ConsentTracker, pseudonym: string, extras: Array<Parameters<typeof eventAfter>[2]>): Promise<string[]> {
  const { eventIds } = await tracker.write(pseudonym, (s) => ({
    plan: planOf(s, extras.map((extra, i) => eventAfter(s, i + 1, extra)), [grantedRecord('analytics')]),
    result: null,
  }));
  return eventIds;
}

/**
 * The optional admin methods. A tracker may implement neither (the admin search, export and
 * stats routes then answer 500); one that implements them must follow this contract.
 */
export function adminContract(define: Define): void {
  define('auditEvents() and stats() are implemented together, or not at all', async (tracker) => {
    assert.equal(typeof tracker.auditEvents, typeof tracker.stats);
  });

  define('auditEvents() filters, orders by id both ways, pages by cursor and names the pseudonym', async (tracker) => {
    if (!tracker.auditEvents) return;
    await tracker.init({ migrate: true });
    const a = await seed(tracker, 'p-a', [{ action: 'grant' }, { action: 'deny', requirement: 'ads' }]);
    const b = await seed(tracker, 'p-b', [{ action: 'grant', at: 1_800_000_000_000 }]);
    const c = await seed(tracker, 'p-c', [{ action: 'grant' }]);
    await tracker.erase('p-c', (s) => planErase(s, { now: 1_900_000_000_000, source: 'admin', actor: null }, FIXTURE_KEY));
    const oldest = await tracker.auditEvents({ order: 'oldest', limit: 100 });
    const ids = [...a, ...b, ...c];
    assert.deepEqual(oldest.slice(0, 4).map((e) => e.id), ids);
    assert.equal(oldest.length, 5);
    assert.deepEqual(oldest.map((e) => e.subject), ['p-a', 'p-a', 'p-b', null, null]);
    const newest = await tracker.auditEvents({ order: 'newest', limit: 100 });
    assert.deepEqual(newest.map((e) => e.id), oldest.map((e) => e.id).reverse());
    const page = await tracker.auditEvents({ order: 'newest', limit: 2, cursor: newest[1]?.id });
    assert.deepEqual(page.map((e) => e.id), newest.slice(2, 4).map((e) => e.id));
    const after = await tracker.auditEvents({ order: 'oldest', limit: 10, cursor: oldest[2]?.id });
    assert.deepEqual(after.map((e) => e.id), oldest.slice(3).map((e) => e.id));
    assert.deepEqual((await tracker.auditEvents({ order: 'newest', limit: 10, requirement: 'ads' })).map((e) => e.id), [a[1]]);
    assert.deepEqual((await tracker.auditEvents({ order: 'oldest', limit: 10, action: 'grant' })).map((e) => e.id), [a[0], b[0], c[0]]);
    const window = await tracker.auditEvents({ order: 'oldest', limit: 10, from: 1_800_000_000_000, to: 1_800_000_000_002 });
    assert.deepEqual(window.map((e) => e.id), b);
  });

  define('stats() counts linked subjects, current records by group and events per action', async (tracker) => {
    if (!tracker.stats) return;
    await tracker.init({ migrate: true });
    await seed(tracker, 'p-a', [{ action: 'grant' }]);
    await seed(tracker, 'p-b', [{ action: 'grant' }, { action: 'deny' }]);
    await seed(tracker, 'p-c', [{ action: 'grant' }]);
    await tracker.erase('p-c', (s) => planErase(s, { now: 1_900_000_000_000, source: 'admin', actor: null }, FIXTURE_KEY));
    const stats = await tracker.stats(1_950_000_000_000);
    assert.equal(stats.subjects, 2);
    assert.deepEqual(stats.groups, [
      { requirement: 'analytics', decision: 'granted', version: 1, pendingVersion: null, pendingLive: false, lapsed: false, count: 2 },
    ]);
    assert.deepEqual(
      Object.entries(stats.actions).filter(([, n]) => n > 0).sort(),
      [['deny', 1], ['erase', 1], ['grant', 3]],
    );
  });
}

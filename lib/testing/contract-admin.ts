import assert from 'node:assert/strict';
import type { ConsentTracker } from '../tracker/tracker';
import { planErase } from '../state/plan-erase';
import { eventAfter, FIXTURE_KEY, grantedRecord, planOf, pseudonymFor, storedVersion } from './fixtures';
import type { Define } from './harness';

async function seed(tracker: ConsentTracker, pseudonym: string, extras: Array<Parameters<typeof eventAfter>[2]>): Promise<string[]> {
  const { eventIds } = await tracker.write(pseudonym, (s) => ({
    plan: planOf(s, extras.map((extra, i) => eventAfter(s, i + 1, extra)), [grantedRecord('analytics')]),
    result: null,
  }));
  return eventIds;
}

const DAY_MS = 86_400_000;

/**
 * The admin capability (when implemented): what the admin routes, the console and the command
 * line read. Without it those routes answer 500 and the console shows requirements only.
 */
export function adminContract(define: Define): void {
  define('auditEvents() filters, orders by id both ways, pages by cursor and names the pseudonym', async (tracker) => {
    if (!tracker.auditEvents) return;
    await tracker.init({ migrate: true });
    const a = await seed(tracker, pseudonymFor('p-a'), [{ action: 'grant' }, { action: 'deny', requirement: 'ads' }]);
    const b = await seed(tracker, pseudonymFor('p-b'), [{ action: 'grant', at: 1_800_000_000_000 }]);
    const c = await seed(tracker, pseudonymFor('p-c'), [{ action: 'grant' }]);
    await tracker.erase(pseudonymFor('p-c'), (s) => planErase(s, { now: 1_900_000_000_000, source: 'admin', actor: null, personalSalt: null }, FIXTURE_KEY));
    const oldest = await tracker.auditEvents({ order: 'oldest', limit: 100 });
    const ids = [...a, ...b, ...c];
    assert.deepEqual(oldest.slice(0, 4).map((e) => e.id), ids);
    assert.equal(oldest.length, 5);
    assert.deepEqual(oldest.map((e) => e.subject), [pseudonymFor('p-a'), pseudonymFor('p-a'), pseudonymFor('p-b'), null, null]);
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
    await seed(tracker, pseudonymFor('p-a'), [{ action: 'grant' }]);
    await seed(tracker, pseudonymFor('p-b'), [{ action: 'grant' }, { action: 'deny' }]);
    await seed(tracker, pseudonymFor('p-c'), [{ action: 'grant' }]);
    await tracker.erase(pseudonymFor('p-c'), (s) => planErase(s, { now: 1_900_000_000_000, source: 'admin', actor: null, personalSalt: null }, FIXTURE_KEY));
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

  define('dailyCounts() counts events per UTC day and action from a day on, leaving empty days out', async (tracker) => {
    if (!tracker.dailyCounts) return;
    await tracker.init({ migrate: true });
    const day = (n: number) => 1_800_000_000_000 - (1_800_000_000_000 % DAY_MS) + n * DAY_MS;
    await seed(tracker, pseudonymFor('p-a'), [{ action: 'grant', at: day(0) - 1 }, { action: 'grant', at: day(0) }, { action: 'withdraw', at: day(0) + DAY_MS - 1 }]);
    await seed(tracker, pseudonymFor('p-b'), [{ action: 'grant', at: day(0) + 5 }, { action: 'grant', at: day(2) }]);
    const iso = (n: number) => new Date(day(n)).toISOString().slice(0, 10);
    const counts = await tracker.dailyCounts(day(0));
    assert.deepEqual(
      counts.map((c) => [c.day, c.action, c.count]).sort(),
      [[iso(0), 'grant', 2], [iso(0), 'withdraw', 1], [iso(2), 'grant', 1]],
    );
    assert.deepEqual(await tracker.dailyCounts(day(3)), []);
  });

  define('allRequirementVersions() lists every stored version by id, oldest first', async (tracker) => {
    if (!tracker.allRequirementVersions) return;
    await tracker.init({ migrate: true });
    assert.deepEqual(await tracker.allRequirementVersions(), []);
    for (const v of [storedVersion('news', 1), storedVersion('ads', 1), storedVersion('news', 2)]) await tracker.syncRequirement(v);
    assert.deepEqual(await tracker.allRequirementVersions(), [storedVersion('ads', 1), storedVersion('news', 1), storedVersion('news', 2)]);
  });

  define('readSetting() returns what secret() and setting() stored, null otherwise, and stores nothing', async (tracker) => {
    if (!tracker.readSetting) return;
    await tracker.init({ migrate: true });
    assert.equal(await tracker.readSetting('secret'), null);
    assert.equal(await tracker.readSetting('secret'), null, 'reading must not store a value');
    const secret = await tracker.secret('the-first-secret'.repeat(3));
    await tracker.setting('receipt-key', 'pem text');
    assert.equal(await tracker.readSetting('secret'), secret);
    assert.equal(await tracker.readSetting('receipt-key'), 'pem text');
    assert.equal(await tracker.readSetting('elsewhere'), null);
  });
}

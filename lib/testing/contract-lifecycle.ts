import assert from 'node:assert/strict';
import type { Define } from './harness';
import { eventAfter, grantedRecord, planOf, pseudonymFor } from './fixtures';

/** The lifecycle capability (when implemented): token lookup and lapsed grants. */
export function lifecycleContract(define: Define): void {
  define('findPending() finds a record by its token hash, with the pseudonym', async (tracker) => {
    if (!tracker.findPending) return;
    await tracker.init({ migrate: true });
    const pending = grantedRecord('news', { pendingVersion: 1, pendingAt: 5, pendingExpiresAt: 10, pendingToken: 'f'.repeat(64) });
    await tracker.write(pseudonymFor('p-token'), (s) => ({ plan: planOf(s, [], [pending]), result: null }));
    assert.deepEqual(await tracker.findPending('f'.repeat(64)), { pseudonym: pseudonymFor('p-token'), record: pending });
    assert.equal(await tracker.findPending('0'.repeat(64)), null);
    // Erasure deletes the subject's records, pending token hashes with them.
    await tracker.erase(pseudonymFor('p-token'), (s) => planOf(s, [eventAfter(s, 1, { action: 'erase', state: 'unset' })], []));
    assert.equal(await tracker.findPending('f'.repeat(64)), null, 'a token of an erased subject');
  });

  define('lapsedGrants() lists unmarked grants whose expiry passed, in pages', async (tracker) => {
    if (!tracker.lapsedGrants) return;
    await tracker.init({ migrate: true });
    for (const p of [pseudonymFor('p-a'), pseudonymFor('p-b'), pseudonymFor('p-c')]) {
      await tracker.write(p, (s) => ({
        plan: planOf(s, [], [
          grantedRecord('x', { expiresAt: 100 }),
          grantedRecord('y', { expiresAt: 100, expiryRecorded: true }),
          grantedRecord('z', { expiresAt: 101 }),
          { ...grantedRecord('w', { expiresAt: 50 }), decision: 'denied' },
        ]),
        result: null,
      }));
    }
    const first = await tracker.lapsedGrants({ now: 100, limit: 2 });
    assert.equal(first.length, 2);
    const rest = await tracker.lapsedGrants({ now: 100, limit: 2, after: first[1]!.key });
    const all = [...first, ...rest];
    const expected = ['p-a', 'p-b', 'p-c'].map((p) => `${pseudonymFor(p)}/x`).sort();
    assert.deepEqual(all.map((g) => `${g.pseudonym}/${g.requirement}`).sort(), expected);
    assert.deepEqual(await tracker.lapsedGrants({ now: 100, limit: 2, after: rest[rest.length - 1]!.key }), []);
  });
}

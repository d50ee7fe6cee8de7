import assert from 'node:assert/strict';
import type { Define } from './harness';
import { grantedRecord, planOf, pseudonymFor } from './fixtures';

/** The lifecycle capability (when implemented): lapsed grants. */
export function lifecycleContract(define: Define): void {
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

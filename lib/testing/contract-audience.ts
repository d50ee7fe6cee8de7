import assert from 'node:assert/strict';
import { planErase } from '../state/plan-erase';
import type { ConsentTracker } from '../tracker/tracker';
import { eventAfter, FIXTURE_KEY, grantedRecord, planOf } from './fixtures';
import type { Define } from './harness';

/** Writes one grant of `requirement` for `pseudonym`, with `sealed` as its sealed subject id. */
async function grant(tracker: ConsentTracker, pseudonym: string, requirement: string, sealed?: string): Promise<void> {
  await tracker.write(pseudonym, (s) => {
    const plan = planOf(s, [eventAfter(s, 1, { requirement })], [grantedRecord(requirement)]);
    if (sealed !== undefined) plan.sealedSubject = `${sealed}@${s.chain}`;
    return { plan, result: null };
  });
}

/**
 * The audience capability (when implemented): subjects across the store by requirement, with
 * their sealed ids; records of many pseudonyms at once; a sealed id stored without an event.
 */
export function audienceContract(define: Define): void {
  define('audience() pages through linked subjects in chain order, with their sealed id and record', async (tracker) => {
    if (!tracker.audience) return;
    await tracker.init({ migrate: true });
    await grant(tracker, 'p-a', 'news', 'A');
    await grant(tracker, 'p-b', 'other', 'B');
    await grant(tracker, 'p-c', 'news');
    await grant(tracker, 'p-d', 'news', 'D');
    await tracker.erase('p-d', (s) => planErase(s, { now: 1_900_000_000_000, source: 'admin', actor: null }, FIXTURE_KEY));
    const first = await tracker.audience({ requirement: 'news', limit: 2 });
    const rest = await tracker.audience({ requirement: 'news', limit: 2, after: first[1]?.chain });
    const all = [...first, ...rest];
    assert.equal(first.length, 2);
    assert.deepEqual(all.map((e) => e.chain), [...all.map((e) => e.chain)].sort(), 'in chain-key order');
    assert.equal(all.length, 3, 'every linked subject once, the erased one left out');
    const byId = new Map(all.map((e) => [e.sealedSubject?.split('@')[0] ?? null, e]));
    assert.equal(byId.get('A')?.sealedSubject, `A@${String(byId.get('A')?.chain)}`);
    assert.deepEqual(byId.get('A')?.record, grantedRecord('news'));
    assert.equal(byId.get('B')?.record, null, 'a subject without a record of the requirement comes with null');
    assert.deepEqual(byId.get(null)?.record, grantedRecord('news'), 'a subject written without a sealed id comes with null');
    assert.deepEqual(await tracker.audience({ requirement: 'news', limit: 2, after: all[2]?.chain }), []);
  });

  define('a write without a sealed id keeps the stored one; recordsOf() reads many subjects in order', async (tracker) => {
    if (!tracker.recordsOf || !tracker.audience) return;
    await tracker.init({ migrate: true });
    await grant(tracker, 'p-a', 'news', 'A');
    await grant(tracker, 'p-a', 'other');
    const [entry] = await tracker.audience({ requirement: 'news', limit: 10 });
    assert.equal(entry?.sealedSubject?.split('@')[0], 'A');
    await grant(tracker, 'p-b', 'other');
    assert.deepEqual(await tracker.recordsOf(['p-b', 'p-a', 'p-none', 'p-a'], 'news'), [null, grantedRecord('news'), null, grantedRecord('news')]);
  });

  define('storeSealedSubject() seals for the linked chain, and stores nothing for an unknown subject', async (tracker) => {
    if (!tracker.storeSealedSubject || !tracker.audience) return;
    await tracker.init({ migrate: true });
    await grant(tracker, 'p-a', 'news');
    assert.equal(await tracker.storeSealedSubject('p-a', (chain) => `A@${chain}`), true);
    assert.equal(await tracker.storeSealedSubject('p-unknown', (chain) => `X@${chain}`), false);
    const entries = await tracker.audience({ requirement: 'news', limit: 10 });
    assert.deepEqual(entries.map((e) => e.sealedSubject), [`A@${String(entries[0]?.chain)}`]);
  });
}

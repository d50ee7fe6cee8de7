import assert from 'node:assert/strict';
import type { OutboxEntry } from '../tracker/records';
import type { Define } from './harness';
import { eventAfter, grantedRecord, planOf } from './fixtures';

const entry = (handler: string, eventIndex: number | null, availableAt = 1_000): OutboxEntry => ({
  handler,
  event: 'change',
  eventIndex,
  payload: `sealed-${handler}`,
  availableAt,
});

/** The lifecycle methods: token lookup, lapsed grants, and the outbox (when implemented). */
export function lifecycleContract(define: Define): void {
  define('findPending() finds a record by its token hash, with the pseudonym', async (tracker) => {
    await tracker.init({ migrate: true });
    if (!tracker.findPending) return;
    const pending = grantedRecord('news', { pendingVersion: 1, pendingAt: 5, pendingExpiresAt: 10, pendingToken: 'f'.repeat(64) });
    await tracker.write('p-token', (s) => ({ plan: planOf(s, [], [pending]), result: null }));
    assert.deepEqual(await tracker.findPending('f'.repeat(64)), { pseudonym: 'p-token', record: pending });
    assert.equal(await tracker.findPending('0'.repeat(64)), null);
  });

  define('lapsedGrants() lists unmarked grants whose expiry passed, in pages', async (tracker) => {
    await tracker.init({ migrate: true });
    if (!tracker.lapsedGrants) return;
    for (const p of ['p-a', 'p-b', 'p-c']) {
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
    assert.deepEqual(all.map((g) => `${g.pseudonym}/${g.requirement}`).sort(), ['p-a/x', 'p-b/x', 'p-c/x']);
    assert.deepEqual(await tracker.lapsedGrants({ now: 100, limit: 2, after: rest[rest.length - 1]!.key }), []);
  });

  define('write() inserts outbox entries with the write; claims are exclusive and leased', async (tracker) => {
    await tracker.init({ migrate: true });
    const { claimOutbox, completeOutbox, retryOutbox } = tracker;
    if (!claimOutbox || !completeOutbox || !retryOutbox) return;
    const written = await tracker.write('p-out', (s) => ({
      plan: { ...planOf(s, [eventAfter(s, 1)], []), outbox: [entry('h1', 0), entry('h2', null), entry('later', 0, 5_000)] },
      result: null,
    }));
    const query = { handlers: ['h1', 'h2', 'later'], now: 1_000, leaseMs: 100, limit: 10 };
    const claimed = await claimOutbox.call(tracker, query);
    assert.deepEqual(claimed.map((c) => [c.handler, c.eventId, c.payload, c.attempts]), [
      ['h1', written.eventIds[0], 'sealed-h1', 0],
      ['h2', null, 'sealed-h2', 0],
    ]);
    assert.deepEqual(await claimOutbox.call(tracker, { ...query, now: 1_050 }), [], 'held by a lease');
    const [h1, h2] = claimed as [(typeof claimed)[0], (typeof claimed)[0]];
    await completeOutbox.call(tracker, h1.id);
    await retryOutbox.call(tracker, h2, 1_060);
    const again = await claimOutbox.call(tracker, { ...query, handlers: ['h1', 'h2'], now: 1_060 });
    assert.deepEqual(again.map((c) => [c.handler, c.attempts]), [['h2', 1]]);
    // A lapsed lease makes the entry claimable again (its process died mid-delivery).
    const retaken = await claimOutbox.call(tracker, { ...query, handlers: ['h2'], now: 1_200 });
    assert.deepEqual(retaken.map((c) => c.id), [again[0]!.id]);
    await retryOutbox.call(tracker, again[0]!, 9_999);
    assert.deepEqual(await claimOutbox.call(tracker, { ...query, handlers: ['h2'], now: 1_300 }), [], 'a stale claim cannot reschedule');
  });

  define('erase() deletes the subject\'s outbox entries with its personal data', async (tracker) => {
    await tracker.init({ migrate: true });
    if (!tracker.claimOutbox) return;
    for (const p of ['p-erased', 'p-kept']) {
      await tracker.write(p, (s) => ({ plan: { ...planOf(s, [eventAfter(s, 1)], []), outbox: [entry(`h-${p}`, 0)] }, result: null }));
    }
    await tracker.erase('p-erased', (s) => planOf(s, [eventAfter(s, 1, { action: 'erase', state: 'unset' })], []));
    const left = await tracker.claimOutbox({ handlers: ['h-p-erased', 'h-p-kept'], now: 10_000, leaseMs: 1, limit: 10 });
    assert.deepEqual(left.map((c) => c.handler), ['h-p-kept']);
  });
}

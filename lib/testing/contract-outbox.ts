import assert from 'node:assert/strict';
import type { ClaimedOutboxEntry, OutboxEntry } from '../tracker/records';
import { eventAfter, planOf, pseudonymFor } from './fixtures';
import type { Define } from './harness';

const entry = (handler: string, eventIndex: number | null, availableAt = 1_000): OutboxEntry => ({
  handler,
  event: 'change',
  eventIndex,
  payload: `sealed-${handler}`,
  availableAt,
});

/** The outbox capability (when implemented): entries written with events, leased claims. */
export function outboxContract(define: Define): void {
  define('write() inserts outbox entries with the write; claims are exclusive and leased', async (tracker) => {
    const { claimOutbox, completeOutbox, retryOutbox } = tracker;
    if (!claimOutbox || !completeOutbox || !retryOutbox) return;
    await tracker.init({ migrate: true });
    const written = await tracker.write(pseudonymFor('p-out'), (s) => ({
      plan: { ...planOf(s, [eventAfter(s, 1)], []), outbox: [entry('h1', 0), entry('h2', null), entry('elsewhere', 0), entry('later', 0, 5_000)] },
      result: null,
    }));
    const query = { handlers: ['h1', 'h2', 'later'], now: 1_000, leaseMs: 100, limit: 10 };
    // Only the handlers asked for: an entry of another (one this process lacks) is left alone.
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

  define('claims at most `limit` entries, oldest first, and a retry stores one attempt more', async (tracker) => {
    const { claimOutbox, retryOutbox } = tracker;
    if (!claimOutbox || !retryOutbox) return;
    await tracker.init({ migrate: true });
    // Delivery claims a batch and delivers it in order: the oldest entries go first.
    for (let i = 0; i < 5; i += 1) {
      await tracker.write(pseudonymFor(`p-batch-${String(i)}`), (s) => ({ plan: { ...planOf(s, [eventAfter(s, 1)], []), outbox: [{ ...entry('h-batch', 0), payload: `n${String(i)}` }] }, result: null }));
    }
    const query = { handlers: ['h-batch'], now: 1_000, leaseMs: 100, limit: 3 };
    const first = await claimOutbox.call(tracker, query);
    assert.deepEqual(first.map((c) => c.payload), ['n0', 'n1', 'n2']);
    assert.deepEqual((await claimOutbox.call(tracker, query)).map((c) => c.payload), ['n3', 'n4']);
    // A released entry comes back first; `attempts` grows by one with each retry.
    await retryOutbox.call(tracker, first[1]!, 1_000);
    assert.deepEqual((await claimOutbox.call(tracker, query)).map((c) => [c.payload, c.attempts]), [['n1', 1]]);
  });

  define('claims only the oldest entry of a chain for a handler, also while it waits for a retry', async (tracker) => {
    const { claimOutbox, completeOutbox, retryOutbox } = tracker;
    if (!claimOutbox || !completeOutbox || !retryOutbox) return;
    await tracker.init({ migrate: true });
    const queued = (p: string, payloads: string[], handler = 'h-queue') => tracker.write(pseudonymFor(p), (s) => ({
      plan: { ...planOf(s, [eventAfter(s, 1)], []), outbox: payloads.map((payload) => ({ ...entry(handler, 0), payload })) },
      result: null,
    }));
    await queued('p-queue-a', ['a1', 'a2']);
    await queued('p-queue-b', ['b1']);
    await queued('p-queue-a', ['a3']);
    await queued('p-queue-a', ['a-other'], 'h-queue-2');
    const query = { handlers: ['h-queue', 'h-queue-2'], now: 1_000, leaseMs: 100, limit: 10 };
    const first = await claimOutbox.call(tracker, query);
    // Another handler's entry of the same chain is a queue of its own.
    assert.deepEqual(first.map((c) => c.payload), ['a1', 'b1', 'a-other']);
    const a1 = first[0]!;
    await retryOutbox.call(tracker, a1, 5_000);
    for (const c of first.slice(1)) await completeOutbox.call(tracker, c.id);
    assert.deepEqual(await claimOutbox.call(tracker, { ...query, now: 2_000 }), [], 'a2 waits behind a1, released for a retry later');
    const retried = await claimOutbox.call(tracker, { ...query, now: 5_000 });
    assert.deepEqual(retried.map((c) => [c.payload, c.attempts]), [['a1', 1]]);
    assert.deepEqual(await claimOutbox.call(tracker, { ...query, now: 5_000 }), [], 'nor while a1 is held');
    await completeOutbox.call(tracker, retried[0]!.id);
    const next = await claimOutbox.call(tracker, { ...query, now: 5_000 });
    assert.deepEqual(next.map((c) => c.payload), ['a2']);
    await completeOutbox.call(tracker, next[0]!.id);
    assert.deepEqual((await claimOutbox.call(tracker, { ...query, now: 5_000 })).map((c) => c.payload), ['a3']);
  });

  define('concurrent claims never take the same entry', async (tracker) => {
    const { claimOutbox } = tracker;
    if (!claimOutbox) return;
    await tracker.init({ migrate: true });
    for (let i = 0; i < 6; i += 1) {
      await tracker.write(pseudonymFor(`p-rival-${String(i)}`), (s) => ({ plan: { ...planOf(s, [eventAfter(s, 1)], []), outbox: [entry('h-rival', 0)] }, result: null }));
    }
    const query = { handlers: ['h-rival'], now: 1_000, leaseMs: 100, limit: 2 };
    const claims = await Promise.all(Array.from({ length: 6 }, () => claimOutbox.call(tracker, query)));
    const ids = claims.flat().map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, `an entry claimed twice: ${ids.join(', ')}`);
    assert.equal(ids.length, 6, 'every entry claimed once');
  });

  define('erase() deletes the subject\'s outbox entries with its personal data', async (tracker) => {
    if (!tracker.claimOutbox) return;
    await tracker.init({ migrate: true });
    for (const p of ['p-erased', 'p-kept']) {
      await tracker.write(pseudonymFor(p), (s) => ({ plan: { ...planOf(s, [eventAfter(s, 1)], []), outbox: [entry(`h-${p}`, 0)] }, result: null }));
    }
    await tracker.erase(pseudonymFor('p-erased'), (s) => planOf(s, [eventAfter(s, 1, { action: 'erase', state: 'unset' })], []));
    const left = await tracker.claimOutbox({ handlers: ['h-p-erased', 'h-p-kept'], now: 10_000, leaseMs: 1, limit: 10 });
    assert.deepEqual(left.map((c) => c.handler), ['h-p-kept']);
  });

  define('outboxClaimed() tells whether an entry is still held by its claim', async (tracker) => {
    const { claimOutbox, completeOutbox, outboxClaimed } = tracker;
    if (!claimOutbox || !completeOutbox || !outboxClaimed) return;
    await tracker.init({ migrate: true });
    for (const p of ['p-held-1', 'p-held-2', 'p-held-3']) {
      await tracker.write(pseudonymFor(p), (s) => ({ plan: { ...planOf(s, [eventAfter(s, 1)], []), outbox: [entry('h-held', 0)] }, result: null }));
    }
    const query = { handlers: ['h-held'], now: 1_000, leaseMs: 100, limit: 10 };
    const [kept, erased, lapsed] = (await claimOutbox.call(tracker, query)) as [ClaimedOutboxEntry, ClaimedOutboxEntry, ClaimedOutboxEntry];
    await tracker.erase(pseudonymFor('p-held-2'), (s) => planOf(s, [eventAfter(s, 1, { action: 'erase', state: 'unset' })], []));
    await completeOutbox.call(tracker, kept.id);
    assert.equal(await outboxClaimed.call(tracker, kept), false, 'completed');
    assert.equal(await outboxClaimed.call(tracker, erased), false, 'erased');
    assert.equal(await outboxClaimed.call(tracker, lapsed), true, 'held');
    await claimOutbox.call(tracker, { ...query, now: 1_200 });
    assert.equal(await outboxClaimed.call(tracker, lapsed), false, 'claimed by another after the lease lapsed');
  });
}

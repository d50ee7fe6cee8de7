import assert from 'node:assert/strict';
import { isStoredEventId } from '../audit/event-ids';
import type { StoredEvent, SubjectSnapshot } from '../tracker/records';
import type { Define } from './harness';
import { currentRecords, eventAfter, FIXTURE_SALT, GENESIS, grantedRecord, planOf, pseudonymFor } from './fixtures';

const noWrite = (s: SubjectSnapshot) => ({ plan: planOf(s, [], []), result: s });

/** The tracker's own contract: write(), current(). */
export function writeContract(define: Define): void {
  define('write() starts a subject at seq 0 on the genesis hash and keeps its chain', async (tracker) => {
    await tracker.init({ migrate: true });
    const first = await tracker.write(pseudonymFor('p-1'), (s) => ({ plan: planOf(s, [eventAfter(s, 1)], [grantedRecord('analytics')]), result: s }));
    assert.equal(first.result.seq, 0);
    assert.equal(first.result.hash, GENESIS);
    assert.deepEqual(first.result.records, []);
    assert.equal(first.eventIds.length, 1);
    const second = await tracker.write(pseudonymFor('p-1'), noWrite);
    assert.equal(second.result.chain, first.result.chain);
    assert.equal(second.result.seq, 1);
    const [stored] = await tracker.history(pseudonymFor('p-1'), { limit: 1 });
    assert.equal(second.result.hash, stored?.hash, 'the head is the newest event');
    assert.equal(second.result.headId, first.eventIds[0]);
    assert.deepEqual(second.result.records, [grantedRecord('analytics')]);
    const other = await tracker.write(pseudonymFor('p-2'), noWrite);
    assert.notEqual(other.result.chain, first.result.chain, 'each subject has its own chain');
  });

  define('write() appends events in order and returns distinct ids: positive integers, as strings', async (tracker) => {
    await tracker.init({ migrate: true });
    const { eventIds } = await tracker.write(pseudonymFor('p-ids'), (s) => ({
      plan: planOf(s, [1, 2, 3].map((n) => eventAfter(s, n)), []),
      result: null,
    }));
    assert.equal(eventIds.length, 3);
    // The library encrypts these as one 64-bit block for callers: anything else cannot be shown.
    assert.ok(eventIds.every((id) => typeof id === 'string' && isStoredEventId(id)), `ids ${eventIds.join(', ')}`);
    assert.equal(new Set(eventIds).size, 3);
    const history = await tracker.history(pseudonymFor('p-ids'), { limit: 10 });
    assert.deepEqual(history.map((e) => e.id), [...eventIds].reverse());
  });

  define('write() stores every field of events and records exactly', async (tracker) => {
    await tracker.init({ migrate: true });
    const record = grantedRecord('news', {
      version: 7,
      expiresAt: 1_800_000_000_000,
      gpcOptIn: true,
      pendingVersion: 8,
      pendingAt: 1_700_000_000_500,
      pendingExpiresAt: 1_700_172_800_500,
      pendingToken: 'f'.repeat(64),
      expiryRecorded: true,
    });
    const denied = { ...grantedRecord('ads'), decision: 'denied' as const, expiresAt: null };
    const written = await tracker.write(pseudonymFor('p-fields'), (s) => {
      const event = eventAfter(s, 1, {
        requirement: 'news', version: 7, action: 'withdraw', state: 'denied', source: 'admin',
        actor: 'admin-42', note: 'asked by phone', data: '{"ticket":12,"ok":true}',
        ip: '203.0.113.0', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) ü', locale: 'de-CH', personalSalt: FIXTURE_SALT,
        context: 'checkout/step-2',
      });
      const plan = planOf(s, [event], [record, denied]);
      // What the tracker must store: the event as the plan seals it with the id it assigned.
      const sealed = { seal: plan.seal.bind(plan), events: [] as StoredEvent[] };
      plan.seal = (ids) => {
        const out = sealed.seal(ids);
        sealed.events = out.events;
        return out;
      };
      return { plan, result: sealed };
    });
    const [stored] = await tracker.history(pseudonymFor('p-fields'), { limit: 1 });
    const sealed = written.result.events[0] as StoredEvent;
    assert.equal(stored?.id, written.eventIds[0]);
    // A tracker may leave the previous hash out of what it reads back: verification derives it.
    assert.ok(stored?.prevHash === GENESIS || stored?.prevHash === '', 'prevHash: the sealed one, or empty');
    assert.deepEqual({ ...stored, prevHash: sealed.prevHash }, sealed);
    assert.equal(stored?.prevId, null);
    assert.deepEqual(await currentRecords(tracker, pseudonymFor('p-fields')), [denied, record]);
    const snapshot = await tracker.current(pseudonymFor('p-fields'));
    const [head] = await tracker.heads({ pseudonym: pseudonymFor('p-fields'), limit: 1 });
    assert.deepEqual(
      [snapshot?.chain, snapshot?.pseudonym, snapshot?.seq, snapshot?.hash, snapshot?.headId, snapshot?.mac],
      [head?.chain, pseudonymFor('p-fields'), 1, sealed.hash, sealed.id, head?.mac],
      'current() reads the head as sealed, with the pseudonym it was asked for',
    );
    assert.notEqual(head?.mac, '');
    assert.equal(await tracker.current(pseudonymFor('p-unknown')), null);
  });

  define('write() replaces the one current record per requirement', async (tracker) => {
    await tracker.init({ migrate: true });
    await tracker.write(pseudonymFor('p-rec'), (s) => ({ plan: planOf(s, [eventAfter(s, 1)], [grantedRecord('analytics')]), result: null }));
    const newer = grantedRecord('analytics', { version: 2, decidedAt: 1_700_000_000_900 });
    await tracker.write(pseudonymFor('p-rec'), (s) => ({ plan: planOf(s, [eventAfter(s, 1)], [newer]), result: null }));
    assert.deepEqual(await currentRecords(tracker, pseudonymFor('p-rec')), [newer]);
  });

  define('write() writes nothing when plan throws', async (tracker) => {
    await tracker.init({ migrate: true });
    const failure = new Error('the planner refused');
    await assert.rejects(tracker.write(pseudonymFor('p-atomic'), () => { throw failure; }), (e) => e === failure);
    assert.deepEqual(await currentRecords(tracker, pseudonymFor('p-atomic')), []);
    assert.deepEqual(await tracker.history(pseudonymFor('p-atomic'), { limit: 10 }), []);
    await tracker.write(pseudonymFor('p-atomic'), (s) => ({ plan: planOf(s, [eventAfter(s, 1)], [grantedRecord('analytics')]), result: null }));
    await assert.rejects(tracker.write(pseudonymFor('p-atomic'), () => { throw failure; }), (e) => e === failure);
    const after = await tracker.write(pseudonymFor('p-atomic'), noWrite);
    assert.equal(after.result.seq, 1, 'the chain head must not move');
    assert.deepEqual(after.result.records, [grantedRecord('analytics')]);
    assert.equal((await tracker.history(pseudonymFor('p-atomic'), { limit: 10 })).length, 1);
  });

  define('write() serialises writers of one subject: the chain never forks', async (tracker) => {
    await tracker.init({ migrate: true });
    const race = (pseudonym: string) => Promise.all(
      Array.from({ length: 20 }, () =>
        tracker.write(pseudonym, (s) => ({ plan: planOf(s, [eventAfter(s, 1)], []), result: s.seq })),
      ),
    );
    // A new subject (its chain created by the first writer), then one that already has a chain.
    for (const [pseudonym, from] of [[pseudonymFor('p-race'), 0], [pseudonymFor('p-race'), 20]] as const) {
      const seen = await race(pseudonym);
      assert.deepEqual(seen.map((w) => w.result).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => from + i));
    }
    const history = await tracker.history(pseudonymFor('p-race'), { limit: 100 });
    assert.deepEqual(history.map((e) => e.seq), Array.from({ length: 40 }, (_, i) => 40 - i));
  });

  define('write() calls made together each land, and a refusing planner fails alone', async (tracker) => {
    await tracker.init({ migrate: true });
    const failure = new Error('the planner refused');
    const subjects = Array.from({ length: 12 }, (_, i) => pseudonymFor(`p-together-${String(i)}`));
    const settled = await Promise.allSettled(
      subjects.map((pseudonym, i) =>
        tracker.write(pseudonym, (s) => {
          if (i === 5) throw failure;
          return { plan: planOf(s, [eventAfter(s, 1)], [grantedRecord('analytics')]), result: s.seq };
        }),
      ),
    );
    for (const [i, pseudonym] of subjects.entries()) {
      const outcome = settled[i] as PromiseSettledResult<unknown>;
      const refused = i === 5;
      assert.equal(outcome.status, refused ? 'rejected' : 'fulfilled', pseudonym);
      if (outcome.status === 'rejected') assert.equal(outcome.reason, failure);
      assert.deepEqual(await currentRecords(tracker, pseudonym), refused ? [] : [grantedRecord('analytics')]);
      assert.equal((await tracker.history(pseudonym, { limit: 5 })).length, refused ? 0 : 1);
    }
    // The refused subject was new: nothing of it is stored, not even an empty, linked chain.
    assert.deepEqual(await tracker.heads({ pseudonym: subjects[5], limit: 1 }), [], 'no chain for the refused subject');
  });

  define('current() is empty for an unknown subject', async (tracker) => {
    await tracker.init({ migrate: true });
    assert.deepEqual(await currentRecords(tracker, 'never-seen'), []);
    assert.deepEqual(await tracker.history('never-seen', { limit: 5 }), []);
  });
}

import assert from 'node:assert/strict';
import type { BatchPlanner } from '../tracker/records';
import { currentRecords, eventAfter, grantedRecord, loggedEvents, planOf, pseudonymFor } from './fixtures';
import type { Define } from './harness';

/** Each subject gets one grant of `analytics` on top of whatever it had. */
const grantEach: BatchPlanner = (_pseudonym, s) => planOf(s, [eventAfter(s, 1)], [grantedRecord('analytics')]);

/** The bulk capability (when implemented): `writeMany`, and `prepareMany` ahead of it. */
export function bulkContract(define: Define): void {
  define('writeMany() writes each subject exactly as write() does, in one transaction', async (tracker) => {
    if (!tracker.writeMany) return;
    await tracker.init({ migrate: true });
    await tracker.write(pseudonymFor('p-old'), (s) => ({ plan: planOf(s, [eventAfter(s, 1)], []), result: null }));
    await tracker.writeMany([pseudonymFor('p-new'), pseudonymFor('p-old'), pseudonymFor('p-new')], grantEach);
    for (const [pseudonym, seqs] of [[pseudonymFor('p-new'), [1]], [pseudonymFor('p-old'), [2, 1]]] as const) {
      assert.deepEqual((await tracker.history(pseudonym, { limit: 10 })).map((e) => e.seq), seqs, pseudonym);
      assert.deepEqual(await currentRecords(tracker, pseudonym), [grantedRecord('analytics')], pseudonym);
    }
    const [head] = await tracker.heads({ pseudonym: pseudonymFor('p-new'), limit: 1 });
    assert.equal(head?.seq, 1);
    const events = await tracker.scanEvents({ limit: 10 });
    assert.deepEqual(new Set((await loggedEvents(tracker)).map((e) => `${e.id}/${e.hash}`)), new Set(events.map((e) => `${e.id}/${e.hash}`)), 'every event is logged');
  });

  define('writeMany() writes nothing when the planner throws for one subject', async (tracker) => {
    if (!tracker.writeMany) return;
    await tracker.init({ migrate: true });
    const refused = new Error('the planner refused');
    await assert.rejects(
      tracker.writeMany([pseudonymFor('p-a'), pseudonymFor('p-b'), pseudonymFor('p-c')], (pseudonym, s) => {
        if (pseudonym === pseudonymFor('p-b')) throw refused;
        return grantEach(pseudonym, s);
      }),
      (error) => error === refused,
    );
    for (const pseudonym of [pseudonymFor('p-a'), pseudonymFor('p-b'), pseudonymFor('p-c')]) assert.deepEqual(await tracker.history(pseudonym, { limit: 5 }), [], pseudonym);
    assert.deepEqual(await tracker.logEntries({ limit: 10 }), [], 'nothing logged');
  });

  define('prepareMany() then writeMany() writes what writeMany() alone writes, also when a guess was wrong', async (tracker) => {
    if (!tracker.writeMany || !tracker.prepareMany) return;
    await tracker.init({ migrate: true });
    const prepared = await tracker.prepareMany([pseudonymFor('p-1'), pseudonymFor('p-2')], grantEach);
    // p-2 is written before the batch: the prepared guess that it is new no longer holds.
    await tracker.write(pseudonymFor('p-2'), (s) => ({ plan: planOf(s, [eventAfter(s, 1)], []), result: null }));
    await tracker.writeMany([pseudonymFor('p-1'), pseudonymFor('p-2')], grantEach, prepared);
    assert.deepEqual((await tracker.history(pseudonymFor('p-1'), { limit: 5 })).map((e) => e.seq), [1]);
    assert.deepEqual((await tracker.history(pseudonymFor('p-2'), { limit: 5 })).map((e) => e.seq), [2, 1]);
    const ids = (await tracker.scanEvents({ limit: 10 })).map((e) => e.id);
    assert.equal(new Set(ids).size, 3, 'every event has its own id');
  });
}

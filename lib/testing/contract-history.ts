import assert from 'node:assert/strict';
import type { ConsentTracker } from '../tracker/tracker';
import type { Define } from './harness';
import { eventAfter, planOf, pseudonymFor } from './fixtures';

async function seed(tracker: ConsentTracker, pseudonym: string, requirements: string[]): Promise<void> {
  await tracker.write(pseudonym, (s) => ({
    plan: planOf(s, requirements.map((requirement, i) => eventAfter(s, i + 1, { requirement })), []),
    result: null,
  }));
}

/** The tracker's own contract: history() order, filter, cursor and limit. */
export function historyContract(define: Define): void {
  define('history() is newest first by sequence number, not by time', async (tracker) => {
    await tracker.init({ migrate: true });
    await tracker.write(pseudonymFor('p-h'), (s) => ({
      // Timestamps run backwards: order must still follow seq.
      plan: planOf(s, [1, 2, 3].map((n) => eventAfter(s, n, { at: 1_700_000_009_000 - n })), []),
      result: null,
    }));
    assert.deepEqual((await tracker.history(pseudonymFor('p-h'), { limit: 10 })).map((e) => e.seq), [3, 2, 1]);
  });

  define('history() filters by requirement, continues below beforeSeq and honours limit', async (tracker) => {
    await tracker.init({ migrate: true });
    await seed(tracker, pseudonymFor('p-f'), ['a', 'b', 'a', 'b', 'a']);
    await seed(tracker, pseudonymFor('p-g'), ['a']);
    const seqs = async (q: Parameters<ConsentTracker['history']>[1]) =>
      (await tracker.history(pseudonymFor('p-f'), q)).map((e) => [e.requirement, e.seq]);
    assert.deepEqual(await seqs({ requirement: 'a', limit: 10 }), [['a', 5], ['a', 3], ['a', 1]]);
    assert.deepEqual(await seqs({ beforeSeq: 4, limit: 10 }), [['a', 3], ['b', 2], ['a', 1]]);
    assert.deepEqual(await seqs({ requirement: 'b', beforeSeq: 4, limit: 10 }), [['b', 2]]);
    assert.deepEqual(await seqs({ limit: 2 }), [['a', 5], ['b', 4]]);
    assert.deepEqual(await seqs({ requirement: 'a', beforeSeq: 5, limit: 1 }), [['a', 3]]);
    assert.deepEqual(await seqs({ requirement: 'zzz', limit: 10 }), []);
    assert.equal((await tracker.history(pseudonymFor('p-g'), { limit: 10 })).length, 1, 'subjects never see each other');
  });
}

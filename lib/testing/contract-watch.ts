import assert from 'node:assert/strict';
import { eventAfter, planOf, pseudonymFor } from './fixtures';
import type { Define } from './harness';

const WAIT_MS = 10_000;

/** The watch capability (when implemented): change notifications across processes. */
export function watchContract(define: Define): void {
  define('subscribe() reports a committed write by its pseudonym, or resolves to null', async (tracker) => {
    if (!tracker.subscribe) return;
    await tracker.init({ migrate: true });
    const seen: string[] = [];
    let notified: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (notified = resolve));
    const stop = await tracker.subscribe({
      onChange: (pseudonym) => {
        seen.push(pseudonym);
        if (pseudonym === pseudonymFor('p-watched')) notified();
      },
      onReset: () => undefined,
      onSynced: () => undefined,
      onError: () => undefined,
    });
    if (stop === null) return;
    try {
      await tracker.write(pseudonymFor('p-watched'), (s) => ({ plan: planOf(s, [eventAfter(s, 1)], []), result: null }));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => { resolve('late'); }, WAIT_MS)));
      assert.notEqual(await Promise.race([arrived, late]), 'late', `no onChange(p-watched) within ${String(WAIT_MS)} ms`);
      clearTimeout(timer);
      assert.ok(seen.every((p) => typeof p === 'string'));
    } finally {
      await stop();
    }
  });

  define('subscribe(): an onSynced() after a write resolved comes after the write was reported', async (tracker) => {
    if (!tracker.subscribe) return;
    await tracker.init({ migrate: true });
    const seen: string[] = [];
    let wake: () => void = () => undefined;
    const note = (what: string) => {
      seen.push(what);
      wake();
    };
    const stop = await tracker.subscribe({
      onChange: (pseudonym) => { note(pseudonym === pseudonymFor('p-synced') ? 'change' : 'other'); },
      onReset: () => { note('reset'); },
      onSynced: () => { note('synced'); },
      onError: () => { note('error'); },
    });
    if (stop === null) return;
    try {
      // What came before the write (a reset as the feed started) reports nothing of it.
      const start = seen.length;
      await tracker.write(pseudonymFor('p-synced'), (s) => ({ plan: planOf(s, [eventAfter(s, 1)], []), result: null }));
      const mark = seen.length;
      // The first onSynced after the write may have started before it committed; the second did not.
      const second = () => seen.slice(mark).reduce<number[]>((at, what, i) => (what === 'synced' ? [...at, mark + i] : at), [])[1];
      for (const deadline = Date.now() + WAIT_MS; second() === undefined && Date.now() < deadline;) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      const at = second();
      // A feed that never confirms is allowed: cached states then live `ttlMs`.
      if (at === undefined) return;
      assert.ok(seen.slice(start, at).some((what) => what === 'change' || what === 'reset'), `onSynced() before the write was reported: ${seen.join(', ')}`);
    } finally {
      await stop();
    }
  });
}

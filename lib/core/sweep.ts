import { ConsentConfigError } from '../errors';
import { planExpiry } from '../state/plan-expiry';
import { commitWrite } from './commit';
import type { ConsentEngine } from './engine';
import { storeCall } from './store-call';

const PAGE = 200;

/**
 * Records an `expire` event (source `sweep`) for every grant whose expiry has passed, once:
 * each subject's events go through `tracker.write`, which re-checks inside the transaction, so
 * concurrent or repeated sweeps record each expiry exactly once. No `change` event is emitted:
 * the store holds only pseudonyms, so a sweep cannot name the subject.
 */
export async function sweep(engine: ConsentEngine): Promise<{ recorded: number }> {
  await engine.ready();
  const { tracker } = engine;
  if (!tracker.lapsedGrants) {
    throw new ConsentConfigError('invalid_option', 'the tracker does not implement lapsedGrants(), which sweep() needs');
  }
  const lapsed = tracker.lapsedGrants.bind(tracker);
  const now = engine.now();
  const keys = engine.derivedKeys;
  const lookup = (id: string) => (engine.registry.has(id) ? engine.registry.require(id) : undefined);
  let recorded = 0;
  let after: string | undefined;
  for (;;) {
    const page = await storeCall(engine.options.storeTimeoutMs, 'sweep read', () => lapsed({ now, limit: PAGE, after }));
    const bySubject = new Map<string, string[]>();
    for (const grant of page) bySubject.set(grant.pseudonym, [...(bySubject.get(grant.pseudonym) ?? []), grant.requirement]);
    for (const [pseudonym, ids] of bySubject) {
      const result = await commitWrite(engine, {
        subjectId: null,
        pseudonym,
        now,
        source: 'sweep',
        plan: (snapshot) => planExpiry(snapshot, ids, lookup, now, keys.chain),
      });
      recorded += result.changes.length;
    }
    if (page.length < PAGE) return { recorded };
    after = page[page.length - 1]?.key;
  }
}

import { ConsentConfigError, ConsentIntegrityError } from '../errors';
import type { Registry } from '../registry/registry';
import { planExpiry } from '../state/plan-expiry';
import type { ConsentTracker } from '../tracker/tracker';
import type { CommitRequest, CommitResult } from './commit';

const PAGE = 200;

/** What a sweep needs: where lapsed grants are found, and how an expiry is written. */
export interface SweepDeps {
  readonly tracker: Pick<ConsentTracker, 'lapsedGrants'>;
  readonly registry: Pick<Registry, 'has' | 'require'>;
  /** The chain key (the sweep runs after `ready()`). */
  readonly chainKey: Buffer;
  readonly now: number;
  commit(request: CommitRequest): Promise<CommitResult>;
}

/** What a sweep did. */
export interface SweepResult {
  /** The `expire` events it recorded. */
  recorded: number;
  /**
   * The subjects it left alone because their stored rows fail their seal (each logged through
   * `logger.error`; `verify()` names what changed). Their lapsed grants stay unrecorded.
   */
  refused: number;
}

/**
 * Records an `expire` event (source `sweep`) for every grant whose expiry has passed, once:
 * each subject's events go through `tracker.write`, which re-checks inside the transaction, so
 * concurrent or repeated sweeps record each expiry exactly once. No `change` event is emitted:
 * the store holds only pseudonyms, so a sweep cannot name the subject.
 */
export async function sweepLapsed(deps: SweepDeps): Promise<SweepResult> {
  const { tracker, registry, chainKey, now } = deps;
  if (!tracker.lapsedGrants) {
    throw new ConsentConfigError('invalid_option', 'the tracker does not implement lapsedGrants(), which sweep() needs');
  }
  const lapsed = tracker.lapsedGrants.bind(tracker);
  const lookup = (id: string) => (registry.has(id) ? registry.require(id) : undefined);
  let recorded = 0;
  // By pseudonym: a subject whose lapsed grants span two pages is refused on each, counted once.
  const refused = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const page = await lapsed({ now, limit: PAGE, after });
    const bySubject = new Map<string, string[]>();
    for (const grant of page) bySubject.set(grant.pseudonym, [...(bySubject.get(grant.pseudonym) ?? []), grant.requirement]);
    for (const [pseudonym, ids] of bySubject) {
      let result;
      try {
        result = await deps.commit({
          subjectId: null,
          pseudonym,
          now,
          source: 'sweep',
          plan: (snapshot) => planExpiry(snapshot, ids, lookup, now, chainKey),
        });
      } catch (error) {
        // A subject whose rows fail their seal is refused (and logged) alone: the others' expiries are recorded.
        if (error instanceof ConsentIntegrityError) {
          refused.add(pseudonym);
          continue;
        }
        throw error;
      }
      recorded += result.changes.length;
    }
    if (page.length < PAGE) return { recorded, refused: refused.size };
    after = page[page.length - 1]?.key;
  }
}

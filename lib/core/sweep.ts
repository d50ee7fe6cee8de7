import type { DerivedKeys } from '../audit/keys';
import { ConsentConfigError, ConsentIntegrityError } from '../errors';
import type { Registry } from '../registry/registry';
import { planExpiry } from '../state/plan-expiry';
import type { ConsentTracker } from '../tracker/tracker';
import type { CommitRequest, CommitResult } from './commit';
import { NothingToWrite, raisedAs } from './nothing-to-write';
import { storedSubjectId } from './stored-subject';

const PAGE = 200;
// Writes of a page in flight at once. A write's storage deadline runs from when it is asked, so
// none may wait behind too many others, whatever the tracker's pace (one at a time, say).
const IN_FLIGHT = 32;

/**
 * `task` of each item, at most `limit` at a time, each started as one before it settles; their
 * outcomes in item order. After an outcome that `stops`, no further item is started (its slot
 * stays undefined).
 */
async function settledInTurn<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
  stops: (error: unknown) => boolean,
): Promise<Array<PromiseSettledResult<R> | undefined>> {
  const outcomes: Array<PromiseSettledResult<R> | undefined> = items.map(() => undefined);
  let next = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && next < items.length) {
      const i = next;
      next += 1;
      try {
        outcomes[i] = { status: 'fulfilled', value: await task(items[i] as T) };
      } catch (reason) {
        outcomes[i] = { status: 'rejected', reason };
        if (stops(reason)) stopped = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return outcomes;
}

/** What a sweep needs: where lapsed grants are found, and how an expiry is written. */
export interface SweepDeps {
  readonly tracker: Pick<ConsentTracker, 'lapsedGrants'>;
  readonly registry: Pick<Registry, 'has' | 'require'>;
  /** The derived keys (the sweep runs after `ready()`). */
  readonly keys: DerivedKeys;
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
 * concurrent or repeated sweeps record each expiry exactly once. Each is a `change` event
 * naming the subject when the store keeps its id sealed with the chain (every subject written
 * since it does); one recorded before then is in the history only.
 */
export async function sweepLapsed(deps: SweepDeps): Promise<SweepResult> {
  const { tracker, registry, keys, now } = deps;
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
    const sealed = new Map<string, string | null | undefined>();
    for (const grant of page) {
      bySubject.set(grant.pseudonym, [...(bySubject.get(grant.pseudonym) ?? []), grant.requirement]);
      sealed.set(grant.pseudonym, grant.sealedSubject);
    }
    // A page's subjects are written several at a time: the tracker may group their writes into
    // one transaction (as the Knex tracker does for requests).
    const subjects = [...bySubject];
    const outcomes = await settledInTurn(subjects, IN_FLIGHT, ([pseudonym, ids]) => deps.commit({
      subjectId: storedSubjectId(keys, pseudonym, sealed.get(pseudonym)),
      pseudonym,
      now,
      source: 'sweep',
      plan: (snapshot) => {
        // A write to a pseudonym with no chain would start one, and store the id of a subject just erased.
        if (snapshot.headId === null && snapshot.records.length === 0) throw new NothingToWrite();
        return planExpiry(snapshot, ids, lookup, now, keys.chain);
      },
    }), (error) => !raisedAs(error, NothingToWrite) && !(error instanceof ConsentIntegrityError));
    let failure: { error: unknown } | null = null;
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome === undefined) continue;
      if (outcome.status === 'fulfilled') {
        recorded += outcome.value.changes.length;
        continue;
      }
      const error: unknown = outcome.reason;
      if (raisedAs(error, NothingToWrite)) continue;
      // A subject whose rows fail their seal is refused (and logged) alone: the others' expiries are recorded.
      if (error instanceof ConsentIntegrityError) refused.add((subjects[i] as [string, string[]])[0]);
      else failure ??= { error };
    }
    // Any other failure (the store down) ends the sweep, once the writes under way have settled.
    if (failure !== null) throw failure.error;
    if (page.length < PAGE) return { recorded, refused: refused.size };
    after = page[page.length - 1]?.key;
  }
}

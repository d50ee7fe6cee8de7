import { ConsentError } from '../errors';
import { isAllowedNow } from '../state/derive';
import { hasCapability } from '../tracker/has-capability';
import type { CurrentRecord } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import type { Requirement } from '../types';
import type { ConsentCore } from './consent-core';
import { normalizeSubject, SUBJECT_RULE } from './input';

/** Ids checked per storage read. */
const BATCH = 1000;

/** What `filterAllowed` uses of the engine. */
export type FilterDeps = Pick<ConsentCore, 'tracker' | 'registry' | 'ready' | 'now' | 'pseudonym'>;

/** The records of `requirement` for `pseudonyms`: one read with the audience capability, else one `current()` each. */
function recordsReader(tracker: ConsentTracker): (pseudonyms: string[], requirement: string) => Promise<Array<CurrentRecord | null>> {
  if (hasCapability(tracker, 'audience')) return (pseudonyms, requirement) => tracker.recordsOf(pseudonyms, requirement);
  return (pseudonyms, requirement) =>
    Promise.all(pseudonyms.map(async (p) => (await tracker.current(p)).find((r) => r.requirement === requirement) ?? null));
}

/** Reads the batches of `ids` (each id checked), the next one while the caller handles the current. */
async function* batches<T>(ids: Iterable<T> | AsyncIterable<T>): AsyncGenerator<Array<{ id: T; subject: string }>> {
  let batch: Array<{ id: T; subject: string }> = [];
  let index = 0;
  for await (const id of ids) {
    const subject = normalizeSubject(id);
    if (subject === null) throw new ConsentError('invalid_subject', `filterAllowed(): the id at index ${String(index)} is not ${SUBJECT_RULE}`);
    index += 1;
    batch.push({ id, subject });
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * `consent.filterAllowed()`: the ids of `ids` (as given, duplicates and order kept) for whom
 * processing under `requirementId` is allowed now, judged like `isAllowed()` from the stored
 * records, a batch of ids per storage read (the next read starts while a batch is handed out).
 * Works by pseudonym: subjects recorded before the store kept ids are found too.
 *
 * @throws ConsentError `invalid_argument` for a source that is not iterable (at once); the
 *   iteration rejects with `unknown_requirement`, `invalid_subject` (naming the index) or
 *   `store_unavailable`.
 */
export function filterAllowed<T extends string | number>(
  engine: FilterDeps,
  ids: Iterable<T> | AsyncIterable<T>,
  requirementId: string,
  options: { gpc?: boolean } = {},
): AsyncIterable<T> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (ids === null || typeof ids !== 'object' || !(Symbol.iterator in ids || Symbol.asyncIterator in ids)) {
    throw new ConsentError('invalid_argument', 'filterAllowed() takes an iterable (or async iterable) of subject ids');
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above
  if (options === null || typeof options !== 'object' || Object.keys(options).some((key) => key !== 'gpc') || (options.gpc !== undefined && typeof options.gpc !== 'boolean')) {
    throw new ConsentError('invalid_argument', 'filterAllowed(): the only option is "gpc", a boolean');
  }
  if (typeof requirementId !== 'string') throw new ConsentError('invalid_argument', 'filterAllowed(): the requirement id must be a string');
  const gpc = options.gpc === true;
  return {
    async *[Symbol.asyncIterator]() {
      await engine.ready();
      const requirement: Requirement = engine.registry.require(requirementId);
      const read = recordsReader(engine.tracker);
      const lookup = (batch: Array<{ id: T; subject: string }>) => read(batch.map((b) => engine.pseudonym(b.subject)), requirement.id);
      let previous: { batch: Array<{ id: T; subject: string }>; records: Promise<Array<CurrentRecord | null>> } | null = null;
      for await (const batch of batches(ids)) {
        const records = lookup(batch);
        // Awaited below; if the caller stops first, its failure concerns no one.
        records.catch(() => undefined);
        if (previous) yield* allowedOf(previous.batch, await previous.records, requirement, engine.now(), gpc);
        previous = { batch, records };
      }
      if (previous) yield* allowedOf(previous.batch, await previous.records, requirement, engine.now(), gpc);
    },
  };
}

function allowedOf<T>(batch: Array<{ id: T }>, records: Array<CurrentRecord | null>, requirement: Requirement, now: number, gpc: boolean): T[] {
  const out: T[] = [];
  for (let i = 0; i < batch.length; i += 1) {
    if (isAllowedNow(records[i] ?? undefined, requirement, now, gpc)) out.push((batch[i] as { id: T }).id);
  }
  return out;
}

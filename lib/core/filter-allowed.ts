import { pseudonymOf } from '../audit/keys';
import { ConsentError, ConsentStoreError } from '../errors';
import { nextTurn, TurnTaker } from '../event-loop-turns';
import { isAllowedNow } from '../state/derive';
import { hasCapability } from '../tracker/has-capability';
import type { CurrentRecord, SubjectSnapshot } from '../tracker/records';
import type { Requirement } from '../types';
import type { ConsentCore } from './consent-core';
import { normalizeSubject, requireGpcOption, SUBJECT_RULE } from './input';
import { itemsOf } from './page-cursor';
import { trustedRecords } from './trusted';

/** Ids checked per round of storage reads: one read by a tracker with the audience capability. */
const BATCH = 1000;
/**
 * Batches whose reads are out while the caller handles the one before them, for a tracker with
 * the audience capability: its reads run on several connections (SQLite's readers, the
 * PostgreSQL pool) while the main thread checks seals. One for any other tracker, whose rounds
 * are `CURRENT_AT_ONCE` reads each.
 */
const READ_AHEAD = 3;
/** `current()` reads a tracker without that capability is asked at once, per round. */
const CURRENT_AT_ONCE = 500;

/** What `filterAllowed` uses of the engine. */
export type FilterDeps = Pick<ConsentCore, 'tracker' | 'options' | 'registry' | 'derivedKeys' | 'ready' | 'now' | 'storedRecords'>;

interface Item<T> {
  id: T;
  pseudonym: string;
}

/** Reads the batches of `ids` (each id checked), the next one while the caller handles the current. */
async function* batches<T>(ids: Iterable<T> | AsyncIterable<T>, keys: FilterDeps['derivedKeys']): AsyncGenerator<Array<Item<T>>> {
  let batch: Array<Item<T>> = [];
  let index = 0;
  const turns = new TurnTaker();
  for await (const id of ids) {
    // The batches before are being read meanwhile: see event-loop-turns.ts.
    if (turns.due()) await nextTurn();
    const subject = normalizeSubject(id);
    if (subject === null) throw new ConsentError('invalid_subject', `filterAllowed(): the id at index ${String(index)} is not ${SUBJECT_RULE}`);
    index += 1;
    // Not through the engine's cache of pseudonyms: a long list would push the guard's out.
    batch.push({ id, pseudonym: pseudonymOf(keys, subject) });
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * The trusted records of each item's subject, in order, each checked against its head's seal.
 * A tracker with the audience capability reads the batch's subjects in one call; any other
 * answers a `current()` read per id, `CURRENT_AT_ONCE` of them issued together.
 */
async function recordsOf<T>(engine: FilterDeps, batch: Array<Item<T>>): Promise<CurrentRecord[][]> {
  const { tracker } = engine;
  if (!hasCapability(tracker, 'audience')) {
    const out: CurrentRecord[][] = [];
    for (let i = 0; i < batch.length; i += CURRENT_AT_ONCE) {
      out.push(...(await Promise.all(batch.slice(i, i + CURRENT_AT_ONCE).map((item) => engine.storedRecords(item.pseudonym)))));
    }
    return out;
  }
  const snapshots: unknown = await tracker.snapshots(batch.map((item) => item.pseudonym));
  // An answer missing for an id would read as "no subject": under legitimate interests, allowed.
  if (!Array.isArray(snapshots) || snapshots.length !== batch.length || snapshots.includes(undefined)) {
    throw new ConsentStoreError(`storage answered snapshots() for ${String(batch.length)} subjects with ${Array.isArray(snapshots) ? `${String(snapshots.length)} entries` : 'no list'}, or with a hole`);
  }
  // A subject named twice in a batch (its snapshot read once) has its seal checked once, by the
  // snapshot's identity; its link is checked for every pseudonym it answers.
  const trusted = new Map<SubjectSnapshot, CurrentRecord[]>();
  const out: CurrentRecord[][] = [];
  const turns = new TurnTaker();
  for (let i = 0; i < batch.length; i += 1) {
    if (turns.due()) await nextTurn();
    const { pseudonym } = batch[i] as Item<T>;
    const snapshot = snapshots[i] as SubjectSnapshot | null;
    let records = snapshot === null ? undefined : trusted.get(snapshot);
    if (records === undefined || (snapshot as SubjectSnapshot).pseudonym !== pseudonym) {
      records = trustedRecords(engine.derivedKeys.chain, engine.options.logger, pseudonym, snapshot);
      if (snapshot !== null) trusted.set(snapshot, records);
    }
    out.push(records);
  }
  return out;
}

/**
 * `consent.filterAllowed()`: the ids of `ids` (as given, duplicates and order kept) for whom
 * processing under `requirementId` is allowed now, judged like `isAllowed()` from the stored
 * records once their seal checks, a batch of ids per round of reads (the next rounds start
 * while a batch is handed out). Works by pseudonym: subjects recorded before the store kept ids
 * are found too.
 *
 * @throws ConsentError `invalid_argument` for a source that is not iterable (at once); the
 *   iteration rejects with `unknown_requirement`, `invalid_subject` (naming the index),
 *   `store_unavailable`, or `ConsentIntegrityError` (logged) when a subject's stored rows fail
 *   their seal.
 */
export function filterAllowed<T extends string | number>(
  engine: FilterDeps,
  ids: Iterable<T> | AsyncIterable<T>,
  requirementId: string,
  options?: { gpc?: boolean },
): AsyncIterable<T> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (ids === null || typeof ids !== 'object' || !(Symbol.iterator in ids || Symbol.asyncIterator in ids)) {
    throw new ConsentError('invalid_argument', 'filterAllowed() takes an iterable (or async iterable) of subject ids');
  }
  const gpc = requireGpcOption(options, 'filterAllowed()');
  if (typeof requirementId !== 'string') throw new ConsentError('invalid_argument', 'filterAllowed(): the requirement id must be a string');
  return {
    [Symbol.asyncIterator]: () => itemsOf(allowedPages(engine, ids, requirementId, gpc), (id: T) => id),
  };
}

/** The allowed ids of each batch of `ids`, a batch per round of reads (the next rounds start while a batch is handed out). */
async function* allowedPages<T>(engine: FilterDeps, ids: Iterable<T> | AsyncIterable<T>, requirementId: string, gpc: boolean): AsyncGenerator<T[]> {
  await engine.ready();
  // Unknown ids fail before any read; each batch is judged by the version current when it is.
  engine.registry.require(requirementId);
  const depth = hasCapability(engine.tracker, 'audience') ? READ_AHEAD : 1;
  const ahead: Array<{ batch: Array<Item<T>>; records: Promise<CurrentRecord[][]> }> = [];
  for await (const batch of batches(ids, engine.derivedKeys)) {
    const records = recordsOf(engine, batch);
    // Awaited below; if the caller stops first, its failure concerns no one.
    records.catch(() => undefined);
    ahead.push({ batch, records });
    if (ahead.length > depth) {
      const first = ahead.shift() as (typeof ahead)[number];
      yield allowedNow(engine, first.batch, await first.records, requirementId, gpc);
    }
  }
  for (const { batch, records } of ahead) yield allowedNow(engine, batch, await records, requirementId, gpc);
}

function recordOf(records: readonly CurrentRecord[], requirement: string): CurrentRecord | undefined {
  for (const record of records) if (record.requirement === requirement) return record;
  return undefined;
}

/** `allowedOf` at the engine's time of the call, under the version current then. */
function allowedNow<T>(engine: FilterDeps, batch: Array<Item<T>>, records: CurrentRecord[][], requirementId: string, gpc: boolean): T[] {
  const now = engine.now();
  return allowedOf(batch, records, engine.registry.require(requirementId, 404, now), now, gpc);
}

function allowedOf<T>(batch: Array<Item<T>>, records: CurrentRecord[][], requirement: Requirement, now: number, gpc: boolean): T[] {
  const out: T[] = [];
  for (let i = 0; i < batch.length; i += 1) {
    if (isAllowedNow(recordOf(records[i] as CurrentRecord[], requirement.id), requirement, now, gpc)) out.push((batch[i] as Item<T>).id);
  }
  return out;
}

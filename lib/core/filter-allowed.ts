import { performance } from 'node:perf_hooks';
import { pseudonymOf } from '../audit/keys';
import { ConsentError, ConsentStoreError } from '../errors';
import { nextTurn, TurnTaker } from '../event-loop-turns';
import { isAllowedNow, recordOf } from '../state/derive';
import { hasCapability } from '../tracker/has-capability';
import type { CurrentRecord, SubjectSnapshot } from '../tracker/records';
import type { ConsentCore } from './consent-core';
import { normalizeSubject, requireGpcOption, SUBJECT_RULE } from './input';
import { itemsOf } from './page-cursor';
import { FilterThreads, type LookupJudging, type ThreadVerdicts } from './filter-threads';
import { trustedRecords } from './trusted';

/** Ids checked per round of storage reads: one read by a tracker with the audience capability. */
const BATCH = 1000;
/**
 * The same once threads judge the batches (`snapshotRows`): each batch then costs the main
 * thread and the threads a few messages, whatever its size.
 */
const THREAD_BATCH = 2000;
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

/** A batch of the ids as given, with their subjects (normalized). */
interface Batch<T> {
  ids: T[];
  subjects: string[];
}

/** Reads the batches of `ids` (each id checked), the next one while the caller handles the current; `size()` ids each. */
async function* batches<T>(ids: Iterable<T> | AsyncIterable<T>, size: () => number): AsyncGenerator<Batch<T>> {
  let batch: Batch<T> = { ids: [], subjects: [] };
  let index = 0;
  const turns = new TurnTaker();
  for await (const id of ids) {
    // The batches before are being read meanwhile: see event-loop-turns.ts.
    if (turns.due()) await nextTurn();
    const subject = normalizeSubject(id);
    if (subject === null) throw new ConsentError('invalid_subject', `filterAllowed(): the id at index ${String(index)} is not ${SUBJECT_RULE}`);
    index += 1;
    batch.ids.push(id);
    batch.subjects.push(subject);
    if (batch.ids.length >= size()) {
      yield batch;
      batch = { ids: [], subjects: [] };
    }
  }
  if (batch.ids.length > 0) yield batch;
}

/** A batch as read: its subjects' trusted records (a tracker without the audience capability), or their snapshots, not yet checked. */
type Read = { records: CurrentRecord[][] } | { pseudonyms: readonly string[]; snapshots: Array<SubjectSnapshot | null> };

/**
 * Reads the subjects of `pseudonyms`: a tracker with the audience capability reads their
 * snapshots in one call per thousand; any other answers a `current()` read per id (its records
 * checked), `CURRENT_AT_ONCE` of them issued together.
 */
async function readBatch(engine: FilterDeps, pseudonyms: readonly string[]): Promise<Read> {
  const { tracker } = engine;
  if (!hasCapability(tracker, 'audience')) {
    const records: CurrentRecord[][] = [];
    for (let i = 0; i < pseudonyms.length; i += CURRENT_AT_ONCE) {
      records.push(...(await Promise.all(pseudonyms.slice(i, i + CURRENT_AT_ONCE).map((pseudonym) => engine.storedRecords(pseudonym)))));
    }
    return { records };
  }
  // A thousand at a time (a batch the threads could not judge holds more).
  const all: Array<SubjectSnapshot | null> = [];
  for (let i = 0; i < pseudonyms.length; i += BATCH) {
    const asked = pseudonyms.slice(i, i + BATCH);
    const snapshots: unknown = await tracker.snapshots(asked);
    // An answer missing for an id would read as "no subject": under legitimate interests, allowed.
    if (!Array.isArray(snapshots) || snapshots.length !== asked.length || snapshots.includes(undefined)) {
      throw new ConsentStoreError(`storage answered snapshots() for ${String(asked.length)} subjects with ${Array.isArray(snapshots) ? `${String(snapshots.length)} entries` : 'no list'}, or with a hole`);
    }
    all.push(...(snapshots as Array<SubjectSnapshot | null>));
  }
  return { pseudonyms, snapshots: all };
}

/**
 * The trusted records of each subject of a batch read, in order, each checked against its
 * head's seal, giving the event loop turns as it goes (the next batches are read meanwhile).
 * `worked` is told the milliseconds spent here, not on the turns given away.
 */
async function trustedOf(engine: FilterDeps, read: Read, worked: (ms: number) => void): Promise<CurrentRecord[][]> {
  if ('records' in read) return read.records;
  const { pseudonyms, snapshots } = read;
  // A subject named twice in a batch (its snapshot read once) has its seal checked once, by the
  // snapshot's identity; its link is checked for every pseudonym it answers.
  const trusted = new Map<SubjectSnapshot, CurrentRecord[]>();
  const out: CurrentRecord[][] = [];
  const turns = new TurnTaker();
  let busy = 0;
  let since = performance.now();
  for (let i = 0; i < pseudonyms.length; i += 1) {
    if (turns.due()) {
      busy += performance.now() - since;
      await nextTurn();
      since = performance.now();
    }
    const pseudonym = pseudonyms[i] as string;
    const snapshot = snapshots[i] ?? null;
    let records = snapshot === null ? undefined : trusted.get(snapshot);
    if (records === undefined || (snapshot as SubjectSnapshot).pseudonym !== pseudonym) {
      records = trustedRecords(engine.derivedKeys.chain, engine.options.logger, pseudonym, snapshot);
      if (snapshot !== null) trusted.set(snapshot, records);
    }
    out.push(records);
  }
  worked(busy + performance.now() - since);
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

/** A batch being read: its subjects as read (checked when it is handed out), or its verdicts judged on a thread. */
type Reading = Promise<Read | ThreadVerdicts>;

/** The allowed ids of each batch of `ids`, a batch per round of reads (the next rounds start while a batch is handed out). */
async function* allowedPages<T>(engine: FilterDeps, ids: Iterable<T> | AsyncIterable<T>, requirementId: string, gpc: boolean): AsyncGenerator<T[]> {
  await engine.ready();
  // Unknown ids fail before any read; each batch is judged by the version current when it is.
  engine.registry.require(requirementId);
  const { tracker } = engine;
  const capable = hasCapability(tracker, 'audience');
  const depth = capable ? READ_AHEAD : 1;
  const rows = capable && typeof tracker.snapshotRows === 'function' ? tracker.snapshotRows.bind(tracker) : null;
  const threads = new FilterThreads(engine.derivedKeys, rows, engine.options.logger);
  const judging = (): LookupJudging => {
    const now = engine.now();
    return { requirement: engine.registry.require(requirementId, 404, now), now };
  };
  const read = (batch: Batch<T>): Reading => {
    const pool = threads.next(batch.ids.length);
    // Not through the engine's cache of pseudonyms: a long list would push the guard's out.
    if (pool === null) return readBatch(engine, batch.subjects.map((subject) => pseudonymOf(engine.derivedKeys, subject)));
    return threads.verdicts(pool, batch.subjects, judging, gpc).then((v): Reading => ('verdicts' in v ? Promise.resolve(v) : readBatch(engine, v.pseudonyms)));
  };
  const ahead: Array<{ ids: T[]; reading: Reading }> = [];
  // The first batch read, handed out: checked and judged now, or as its thread judged it.
  const handed = async (): Promise<T[]> => {
    const first = ahead.shift() as (typeof ahead)[number];
    const asked = performance.now();
    const result = await first.reading;
    if ('verdicts' in result) {
      const allowed = threads.current(result, judging(), gpc);
      return first.ids.filter((_, i) => allowed[i] === 1);
    }
    const waited = performance.now() - asked;
    let worked = 0;
    const records = await trustedOf(engine, result, (ms) => { worked = ms; });
    // Before threads start: how long the batch took to come, against the time spent on it.
    threads.paced(waited, worked);
    return allowedNow(engine, first.ids, records, requirementId, gpc);
  };
  try {
    for await (const batch of batches(ids, () => (threads.running ? THREAD_BATCH : BATCH))) {
      const reading = read(batch);
      // Awaited below; if the caller stops first, its failure concerns no one.
      reading.catch(() => undefined);
      ahead.push({ ids: batch.ids, reading });
      if (ahead.length > depth) yield await handed();
    }
    while (ahead.length > 0) yield await handed();
  } finally {
    threads.close();
  }
}

/** Whether each of `ids` is allowed at the engine's time of the call, under the version current then. */
function allowedNow<T>(engine: FilterDeps, ids: readonly T[], records: CurrentRecord[][], requirementId: string, gpc: boolean): T[] {
  const now = engine.now();
  const requirement = engine.registry.require(requirementId, 404, now);
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += 1) {
    if (isAllowedNow(recordOf(records[i] as CurrentRecord[], requirement.id), requirement, now, gpc)) out.push(ids[i] as T);
  }
  return out;
}

import { NO_PERSONAL_FIELDS, storedDigest } from '../audit/chain';
import { pseudonymOf } from '../audit/keys';
import { sealSubjects } from '../audit/subject-keystream';
import { ConsentError } from '../errors';
import { escapePointer } from '../json-pointer';
import { DATE_TIME_RULE, parseInstant } from '../instant';
import { nextTurn } from '../event-loop-turns';
import { planImport, type ImportedDecision } from '../state/import-plan';
import type { BatchPlanner, PreparedBatch } from '../tracker/records';
import type { Decision, Source } from '../types';
import type { ConsentCore } from './consent-core';
import { assertNoProblems, contextProblems, isPlainObject, normalizeSubject, reservedSubject, SUBJECT_RULE, type InputProblem } from './input';
import { SOURCES } from '../vocabulary';

/** One decision to import from another system (`consent.import()`). */
export interface ImportDecisionInput {
  subjectId: string | number;
  requirement: string;
  /** The version the person answered: 1 up to the current one. @default the current version */
  version?: number;
  decision: Decision;
  /** When it was decided: a Date, an ISO-8601 string or epoch milliseconds; not in the future. */
  at: Date | string | number;
  /** @default 'import' */
  source?: Source;
  /** Where the question was asked (at most 200 characters). @default null */
  context?: string | null;
}

/** Options of `consent.import()`. */
export interface ImportOptions {
  /** Decisions written per transaction, 1–10000. @default 1000 */
  batchSize?: number | undefined;
}

/** What `consent.import()` resolves to. */
export interface ImportResult {
  imported: number;
}

/** What an import uses of the engine. */
export type ImportDeps = Pick<ConsentCore, 'tracker' | 'registry' | 'derivedKeys' | 'ready' | 'now'>;

const FIELDS = new Set(['subjectId', 'requirement', 'version', 'decision', 'at', 'source', 'context']);

function parseAt(value: unknown): number | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  // A date-time with its zone: a decision has a time of day, and no server's zone is assumed.
  if (typeof value === 'string' && value.includes('T')) return parseInstant(value);
  return null;
}

interface Parsed {
  subject: string;
  requirementId: string;
  version: number | undefined;
  decision: Decision;
  at: number;
  source: Source;
  context: string | null;
}

function parseItem(item: unknown, index: number, now: number, problems: InputProblem[]): Parsed | null {
  const at0 = `/${String(index)}`;
  if (!isPlainObject(item)) {
    problems.push({ pointer: at0, detail: 'must be { subjectId, requirement, version?, decision, at, source?, context? }' });
    return null;
  }
  const before = problems.length;
  const bad = (field: string, detail: string) => problems.push({ pointer: `${at0}/${escapePointer(field)}`, detail });
  for (const key of Object.keys(item)) if (!FIELDS.has(key)) bad(key, 'unknown field');
  const subject = normalizeSubject(item.subjectId);
  const reserved = subject === null ? null : reservedSubject(subject);
  if (subject === null) bad('subjectId', `must be ${SUBJECT_RULE}`);
  else if (reserved !== null) bad('subjectId', reserved);
  if (typeof item.requirement !== 'string') bad('requirement', 'must be a requirement id');
  const { version } = item;
  if (version !== undefined && (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)) {
    bad('version', 'must be a positive integer');
  }
  if (item.decision !== 'granted' && item.decision !== 'denied') bad('decision', 'must be "granted" or "denied"');
  const at = parseAt(item.at);
  if (at === null) bad('at', `must be a Date, epoch milliseconds or ${DATE_TIME_RULE}`);
  else if (at > now) bad('at', 'must not be in the future');
  const source = item.source ?? 'import';
  if (!SOURCES.includes(source as Source)) bad('source', `must be one of ${SOURCES.join(', ')}`);
  problems.push(...contextProblems(item.context, `${at0}/context`));
  if (problems.length > before) return null;
  return {
    subject: subject as string,
    requirementId: item.requirement as string,
    version: version as number | undefined,
    decision: item.decision as Decision,
    at: at as number,
    source: source as Source,
    context: (item.context as string | null | undefined) ?? null,
  };
}

// Decisions read between two turns of the event loop while a batch is being written.
const READ_STEP = 256;

/** A validated batch: each subject's decisions, and its id, by pseudonym. */
interface ValidBatch {
  bySubject: Map<string, ImportedDecision[]>;
  subjectIds: Map<string, string>;
}

/** Validates one batch completely, or throws before anything of it is written. */
function validateBatch(engine: ImportDeps, items: unknown[], offset: number): ValidBatch {
  const now = engine.now();
  const problems: InputProblem[] = [];
  const parsed = items.map((item, i) => parseItem(item, offset + i, now, problems));
  assertNoProblems(problems);
  const unknown = [...new Set((parsed as Parsed[]).map((p) => p.requirementId).filter((id) => !engine.registry.has(id)))];
  if (unknown.length > 0) {
    // Each decision that names one, as the other refusals are addressed.
    const errors = (parsed as Parsed[]).flatMap((p, i) =>
      engine.registry.has(p.requirementId) ? [] : [{ pointer: `/${String(offset + i)}/requirement`, detail: `no requirement is registered as "${p.requirementId}"` }]);
    throw new ConsentError('unknown_requirement', `no requirement is registered as ${unknown.map((id) => `"${id}"`).join(', ')}`, {
      status: 422,
      extensions: { ids: unknown, errors },
    });
  }
  const bySubject = new Map<string, ImportedDecision[]>();
  const subjectIds = new Map<string, string>();
  const keys = engine.derivedKeys;
  let last = { subject: '', pseudonym: '' };
  (parsed as Parsed[]).forEach((p, i) => {
    const requirement = engine.registry.require(p.requirementId);
    const version = p.version ?? requirement.version;
    if (version > requirement.version) {
      problems.push({ pointer: `/${String(offset + i)}/version`, detail: `must be at most ${String(requirement.version)}, the current version` });
    }
    // Not through the engine's cache of recently seen subjects, which an import would only fill
    // with subjects seen once; a subject's decisions usually come one after another.
    if (last.subject !== p.subject || last.pseudonym === '') last = { subject: p.subject, pseudonym: pseudonymOf(keys, p.subject) };
    const { pseudonym } = last;
    let list = bySubject.get(pseudonym);
    if (list === undefined) {
      list = [];
      bySubject.set(pseudonym, list);
      subjectIds.set(pseudonym, p.subject);
    }
    list.push({ requirement, version, decision: p.decision, at: p.at, source: p.source, context: p.context });
  });
  assertNoProblems(problems);
  return { bySubject, subjectIds };
}

/**
 * The planner of a validated batch's subjects: their decisions appended to their chains, and
 * their ids stored sealed (audiences).
 */
function importPlanner(engine: ImportDeps, { bySubject, subjectIds }: ValidBatch): BatchPlanner {
  const { chain: key, subjectSiv } = engine.derivedKeys;
  const digest = storedDigest(key, NO_PERSONAL_FIELDS);
  const pseudonyms = [...subjectIds.keys()];
  const sealed = sealSubjects(subjectSiv, pseudonyms.map((p) => subjectIds.get(p) as string), pseudonyms);
  const sealedOf = new Map(pseudonyms.map((p, i) => [p, sealed[i] as string]));
  return (pseudonym, snapshot) => {
    const plan = planImport(snapshot, bySubject.get(pseudonym) as ImportedDecision[], key, digest);
    plan.sealedSubject = sealedOf.get(pseudonym);
    return plan;
  };
}

/**
 * Starts planning and sealing a batch ahead of its transaction (while the previous batch is
 * written), where the tracker can. Only a head start: when it fails, the write does it all.
 */
function prepareAhead(tracker: ImportDeps['tracker'], bySubject: Map<string, ImportedDecision[]>, plan: BatchPlanner): Promise<PreparedBatch | null> {
  if (!tracker.prepareMany || !tracker.writeMany) return Promise.resolve(null);
  return tracker.prepareMany([...bySubject.keys()], plan).catch(() => null);
}

/** Writes a batch in one transaction (one per subject without `writeMany`). */
async function writeBatch(
  tracker: ImportDeps['tracker'],
  bySubject: Map<string, ImportedDecision[]>,
  plan: BatchPlanner,
  prepared: Promise<PreparedBatch | null>,
): Promise<void> {
  if (tracker.writeMany) {
    await tracker.writeMany([...bySubject.keys()], plan, await prepared);
    return;
  }
  for (const pseudonym of bySubject.keys()) {
    await tracker.write(pseudonym, (snapshot) => ({ plan: plan(pseudonym, snapshot), result: null }));
  }
}

/**
 * The error an import rejects with, saying how many decisions earlier batches committed (its
 * `imported` extension), whatever failed: the library's own errors as they are, anything else
 * (the source that threw while it was `read`, or something unforeseen) as the cause of an
 * `internal_error`, whose text names neither (an HTTP answer never details it, and the cause
 * may hold what only the host should see).
 */
function withImported(error: unknown, imported: number, read: boolean): ConsentError {
  if (error instanceof ConsentError) {
    error.extensions.imported = imported;
    return error;
  }
  const what = read ? 'its source failed' : 'it failed';
  return new ConsentError('internal_error', `import() stopped after ${String(imported)} decisions were imported: ${what} (see the cause)`, { cause: error, extensions: { imported } });
}

/**
 * Imports decisions from another system, in batches of one transaction each: validated like
 * `record()`, appended after the subjects' existing events, chained like every event. Each
 * batch is validated completely before it is written; a bad item rejects with the pointer
 * `/<index>/<field>` (in `errors`, also for an unknown requirement id) and `imported` (the
 * decisions already committed by earlier batches).
 */
export async function importDecisions(
  engine: ImportDeps,
  source: Iterable<unknown> | AsyncIterable<unknown>,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new ConsentError('invalid_argument', 'batchSize must be an integer from 1 to 10000');
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (source === null || typeof source !== 'object' || !(Symbol.iterator in source || Symbol.asyncIterator in source)) {
    throw new ConsentError('invalid_argument', 'import() takes an iterable (or async iterable) of decisions');
  }
  await engine.ready();
  let imported = 0;
  let batch: unknown[] = [];
  // One batch is written while the next is read and validated; `queued` counts its decisions.
  let queued = 0;
  let writing = null as Promise<void> | null;
  const settle = async () => {
    const write = writing;
    writing = null;
    await write;
  };
  const flush = async () => {
    const items = batch;
    batch = [];
    // A bad item is reported below, once the batch in flight has committed or rolled back.
    const valid = validateBatch(engine, items, imported + queued);
    const { bySubject } = valid;
    const plan = importPlanner(engine, valid);
    // Planned and sealed while the batch before it is still being written.
    const prepared = prepareAhead(engine.tracker, bySubject, plan);
    await settle();
    queued = items.length;
    writing = writeBatch(engine.tracker, bySubject, plan, prepared).then(() => {
      imported += items.length;
      queued = 0;
    });
    // Awaited by the next flush; until then a failure must not count as unhandled.
    writing.catch(() => undefined);
  };
  // Whether the source is being read (a failure then is the source's, not the library's).
  let reading = true;
  try {
    for await (const item of source) {
      reading = false;
      batch.push(item);
      if (batch.length >= batchSize) await flush();
      // Reading a synchronous source never lets the event loop turn: the batch being written
      // would wait for the whole next batch before its database replies were handled.
      else if (writing !== null && batch.length % READ_STEP === 0) await nextTurn();
      reading = true;
    }
    reading = false;
    if (batch.length > 0) await flush();
    await settle();
  } catch (error) {
    await writing?.catch(() => undefined);
    throw withImported(error, imported, reading);
  }
  return { imported };
}

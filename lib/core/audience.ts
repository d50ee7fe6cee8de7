import { pseudonymOf } from '../audit/keys';
import { decryptEarlierSubjects, openSubjects } from '../audit/subject-keystream';
import { openEarlierSubject, sealSubject } from '../audit/subject-seal';
import { ConsentError } from '../errors';
import { nextTurn, TurnTaker } from '../event-loop-turns';
import { isAllowedNow, stateOf } from '../state/derive';
import type { AudienceCapability, AudienceEntry } from '../tracker/audience-capability';
import { hasCapability, missingMethods } from '../tracker/has-capability';
import type { CurrentRecord, SubjectSnapshot } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import type { Requirement, State } from '../types';
import { AudienceThreads, checkedPages } from './audience-checks';
import { audienceFilter, type AudienceFilter } from './audience-filter';
import type { ConsentCore } from './consent-core';
import { requireSubject } from './input';
import { itemsOf, pagesAhead } from './page-cursor';
import { integrityFailure, trustedRecords } from './trusted';
import { inVisitorNamespace } from './visitor-id';

/** What `consent.audience()` says once the listing has ended. */
export interface AudienceSummary {
  /** Subjects listed. */
  listed: number;
  /**
   * Subjects that matched but were recorded before the store kept subject ids: they are not
   * listed. A new decision or `consent.rememberSubject(id)` makes them listable.
   */
  skipped: number;
  /** Subjects that matched but whose stored id does not open (altered, or moved to another row). */
  unreadable: number;
  /** The listing ran to its end (false while it runs, or when the caller stopped early). */
  done: boolean;
}

/**
 * The subject ids of an audience, read as they are iterated: constant memory, one storage read
 * per batch, states judged at read time. `summary` is complete once the iteration has ended;
 * iterating again lists again and starts a new summary.
 */
export interface Audience extends AsyncIterable<string> {
  readonly summary: AudienceSummary;
}

/** One listed subject, with the state that matched (for the admin listing). */
export interface AudienceMember {
  subjectId: string;
  state: State;
}

/** What audiences use of the engine. */
export type AudienceDeps = Pick<ConsentCore, 'tracker' | 'registry' | 'derivedKeys' | 'ready' | 'now' | 'options'>;

/**
 * The tracker's audience capability.
 * @throws ConsentError `internal_error` (a setup error) naming the missing methods.
 */
function audienceReader(tracker: ConsentTracker, what: string): AudienceCapability {
  if (hasCapability(tracker, 'audience')) return tracker;
  throw new ConsentError(
    'internal_error',
    `the consent tracker does not implement the audience capability (missing ${missingMethods(tracker, 'audience').join(', ')}), which ${what} needs`,
  );
}

function matcher(requirement: Requirement, filter: AudienceFilter): (record: CurrentRecord | undefined, now: number) => State | null {
  const { allowed, states, gpc } = filter;
  return (record, now) => {
    const state = stateOf(record, requirement, now);
    if (states !== null && !states.has(state)) return null;
    if (allowed !== null && isAllowedNow(record, requirement, now, gpc) !== allowed) return null;
    return state;
  };
}

function recordOf(records: readonly CurrentRecord[], requirement: string): CurrentRecord | undefined {
  for (const record of records) if (record.requirement === requirement) return record;
  return undefined;
}

/**
 * The subject id an earlier release stored with `snapshot`'s chain (AES-256-GCM), or null when
 * it does not open for the chain. `decrypted` (what the value decrypts to, unauthenticated) is
 * taken when its pseudonym is the one the chain's sealed head names: only the subject of the
 * chain has it. Anything else is opened and authenticated in full.
 *
 * @throws ConsentIntegrityError (logged) for a value that opens for its chain but names another
 *   subject: only a holder of the secret could have sealed it.
 */
function earlierSubjectId(engine: AudienceDeps, snapshot: SubjectSnapshot, sealed: string, decrypted: string | null): string | null {
  const keys = engine.derivedKeys;
  if (decrypted !== null && pseudonymOf(keys, decrypted) === snapshot.pseudonym) return decrypted;
  const subjectId = openEarlierSubject(keys.subject, sealed, snapshot.chain);
  if (subjectId === null) return null;
  if (pseudonymOf(keys, subjectId) !== snapshot.pseudonym) throw integrityFailure(engine.options.logger, "a subject's stored id");
  return subjectId;
}

/**
 * The subject ids stored with a page's subjects (null for a value that does not open), in one
 * AES pass for the SIVs and one for whatever else may be an earlier release's value. A value is
 * the subject's own id when what it decrypts to has the subject's pseudonym: only the holder of
 * the secret can seal one that does. Takes event-loop turns as it goes.
 */
async function storedIds(engine: AudienceDeps, snapshots: readonly SubjectSnapshot[], sealed: readonly string[], turns: TurnTaker): Promise<Array<string | null>> {
  const keys = engine.derivedKeys;
  const ids = openSubjects(keys.subjectSiv, keys.pseudonym, sealed, snapshots.map((s) => s.pseudonym));
  const others: number[] = [];
  for (let i = 0; i < snapshots.length; i += 1) if (ids[i] === null) others.push(i);
  if (others.length === 0) return ids;
  const earlier = decryptEarlierSubjects(keys.subject, others.map((i) => sealed[i] as string));
  for (const [k, i] of others.entries()) {
    if (turns.due()) await nextTurn();
    ids[i] = earlierSubjectId(engine, snapshots[i] as SubjectSnapshot, sealed[i] as string, earlier[k] ?? null);
  }
  return ids;
}

/**
 * The members of an audience, a page per storage read (two read ahead, and checked ahead on a
 * thread where that helps: see audience-checks.ts), for callers that write them out in chunks.
 * Updates `summary` as it goes. Every subject of a page is judged only once
 * its head's seal vouches for its records and link; its stored id is listed only when it opens
 * for its chain and names the subject the chain is linked to.
 *
 * @throws ConsentIntegrityError (logged) as soon as a subject fails its seal: a listing that
 *   decides who is contacted never reads a row the library did not write.
 */
export async function* audiencePages(
  engine: AudienceDeps,
  requirementId: string,
  filter: AudienceFilter,
  summary: AudienceSummary,
): AsyncGenerator<AudienceMember[]> {
  if (typeof requirementId !== 'string') throw new ConsentError('invalid_argument', 'audience(): the requirement id must be a string');
  await engine.ready();
  const requirement = engine.registry.require(requirementId);
  const reader = audienceReader(engine.tracker, 'audience()');
  const keys = engine.derivedKeys;
  const { logger } = engine.options;
  // Two pages read ahead: the database reads (on two connections of an SQLite file) while the
  // main thread and the checking thread work on the pages before.
  const pages = pagesAhead((after: string | undefined) => reader.audience({ requirement: requirement.id, after, limit: filter.batchSize }), (last) => last.snapshot.chain, filter.batchSize, 2);
  const turns = new TurnTaker();
  for await (const { page, vouched } of checkedPages(pages, new AudienceThreads(keys))) {
    // Read time: a grant that lapses while the listing runs stops counting from the next page.
    const now = engine.now();
    // The version current then: one registered ahead that started meanwhile outdates older grants.
    const matches = matcher(engine.registry.require(requirementId, 404, now), filter);
    const matched: Array<{ snapshot: SubjectSnapshot; state: State; id: string | undefined }> = [];
    const unopened: number[] = [];
    const sealed: string[] = [];
    for (let i = 0; i < page.length; i += 1) {
      const { snapshot, sealedSubject } = page[i] as AudienceEntry;
      // The next page is being read meanwhile: see event-loop-turns.ts.
      if (turns.due()) await nextTurn();
      // Its seal confirmed by a thread, or checked here.
      const records = vouched.heads?.[i] === 1 ? snapshot.records : trustedRecords(keys.chain, logger, snapshot.pseudonym, snapshot);
      const state = matches(recordOf(records, requirement.id), now);
      if (state === null) continue;
      if (sealedSubject === null) {
        summary.skipped += 1;
        continue;
      }
      const id = vouched.ids[i];
      if (id === undefined) {
        unopened.push(matched.length);
        sealed.push(sealedSubject);
      }
      matched.push({ snapshot, state, id });
    }
    // The ids no thread opened, opened here.
    const opened = await storedIds(engine, unopened.map((m) => (matched[m] as (typeof matched)[number]).snapshot), sealed, turns);
    const ids = matched.map((m) => m.id ?? null);
    unopened.forEach((m, k) => { ids[m] = opened[k] ?? null; });
    const members: AudienceMember[] = [];
    for (let i = 0; i < matched.length; i += 1) {
      const { state } = matched[i] as (typeof matched)[number];
      const subjectId = ids[i] ?? null;
      if (subjectId === null) {
        summary.unreadable += 1;
        continue;
      }
      // Visitors are not the host's subjects: it has nobody to contact.
      if (inVisitorNamespace(subjectId)) continue;
      members.push({ subjectId, state });
    }
    summary.listed += members.length;
    if (members.length > 0) yield members;
  }
  if (summary.unreadable > 0) {
    logger.warn(`express-consent: ${String(summary.unreadable)} stored subject id(s) did not open for their subject (altered, or copied from another subject's row) and were not listed; a new decision or consent.rememberSubject(id) stores them again`);
  }
  summary.done = true;
}

/**
 * `consent.audience()`: the ids of the subjects whose current state of `requirementId` matches.
 * @throws ConsentError `invalid_argument` for bad options (at once); the iteration rejects with
 *   `unknown_requirement`, `store_unavailable` when a read fails, or `ConsentIntegrityError`
 *   (logged) when a subject's stored rows fail their seal.
 */
export function audience(engine: AudienceDeps, requirementId: string, options?: unknown): Audience {
  const filter = audienceFilter(options);
  let summary: AudienceSummary = { listed: 0, skipped: 0, unreadable: 0, done: false };
  return {
    get summary() {
      return summary;
    },
    [Symbol.asyncIterator]() {
      summary = { listed: 0, skipped: 0, unreadable: 0, done: false };
      return itemsOf(audiencePages(engine, requirementId, filter, summary), (member) => member.subjectId);
    },
  };
}

/**
 * `consent.rememberSubject()`: stores the id of a subject recorded before the store kept ids,
 * so that audiences list it. Resolves to false when the store knows no such subject (nothing
 * is stored: its first decision stores the id).
 */
export async function rememberSubject(engine: AudienceDeps, subjectId: unknown): Promise<boolean> {
  const subject = requireSubject(subjectId);
  await engine.ready();
  const reader = audienceReader(engine.tracker, 'rememberSubject()');
  const pseudonym = pseudonymOf(engine.derivedKeys, subject);
  const sealed = sealSubject(engine.derivedKeys.subjectSiv, subject, pseudonym);
  return reader.storeSealedSubject(pseudonym, () => sealed);
}

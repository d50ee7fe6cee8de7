import { pseudonymOf } from '../audit/keys';
import { sealSubject } from '../audit/subject-seal';
import { ConsentError } from '../errors';
import type { AudienceCapability, AudienceQuery } from '../tracker/audience-capability';
import { hasCapability, missingMethods } from '../tracker/has-capability';
import type { ConsentTracker } from '../tracker/tracker';
import { AudienceThreads, judgedPages, type Judging, type ReadPage } from './audience-checks';
import { audienceFilter, type AudienceFilter } from './audience-filter';
import type { AudienceMember } from './audience-judge';
import type { ConsentCore } from './consent-core';
import { requireSubject } from './input';
import { itemsOf, keyedPagesAhead } from './page-cursor';
import { integrityFailure } from './trusted';

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

export type { AudienceMember } from './audience-judge';

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

/** A keyset page of the audience: the tracker's rows when it gives them, else its entries. */
async function readPage(reader: AudienceCapability, query: AudienceQuery): Promise<ReadPage> {
  if (typeof reader.audienceRows === 'function') {
    const rows = await reader.audienceRows(query);
    if (rows !== null) return { rows };
  }
  return { entries: await reader.audience(query) };
}

/**
 * The members of an audience, a page per storage read (two read ahead, and judged ahead on
 * threads where that helps: see audience-checks.ts), for callers that write them out in chunks.
 * Updates `summary` as it goes. Every subject of a page is judged only once its head's seal
 * vouches for its records and link; its stored id is listed only when it opens for its chain
 * and names the subject the chain is linked to (see audience-judge.ts).
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
  const { logger } = engine.options;
  // Two pages read ahead: the database reads (on two connections of an SQLite file) while the
  // pages before are judged.
  const pages = keyedPagesAhead(
    (after: string | undefined) => readPage(reader, { requirement: requirement.id, after, limit: filter.batchSize }),
    // A page short of the batch is the last (a page of rows says whether it is full).
    (page) => ('rows' in page
      ? { empty: page.rows.rows === '[]', next: page.rows.full ? page.rows.last ?? undefined : undefined }
      : { empty: page.entries.length === 0, next: page.entries.length < filter.batchSize ? undefined : page.entries.at(-1)?.snapshot.chain }),
    2,
  );
  const match = { allowed: filter.allowed, states: filter.states === null ? null : [...filter.states], gpc: filter.gpc };
  // Read time: a grant that lapses while the listing runs stops counting from the next page, and
  // a version registered ahead that started meanwhile outdates older grants.
  const judging = (): Judging => {
    const now = engine.now();
    return { requirement: engine.registry.require(requirementId, 404, now), now };
  };
  for await (const page of judgedPages(pages, new AudienceThreads(engine.derivedKeys, match, filter.batchSize), judging)) {
    if (page.failure !== null) throw integrityFailure(logger, page.failure);
    summary.skipped += page.skipped;
    summary.unreadable += page.unreadable;
    summary.listed += page.members.length;
    if (page.members.length > 0) yield page.members;
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

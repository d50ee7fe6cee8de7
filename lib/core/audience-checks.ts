import { performance } from 'node:perf_hooks';
import { ConsentStoreError } from '../errors';
import { nextTurn, TurnTaker } from '../event-loop-turns';
import type { AudienceEntry, AudienceRowsPage } from '../tracker/audience-capability';
import { audienceEntriesOfText } from '../tracker/audience-rows';
import type { Requirement, State } from '../types';
import { STATES } from '../vocabulary';
import { openedMembers, sealedMatches, type AudienceMatch, type JudgeKeys, type JudgedPage, type Matched } from './audience-judge';
import { AudiencePool, type AudienceThreadAnswer } from './audience-pool';

/*
 * Audience pages judged in order: on the main thread, or, for a large listing that waits on its
 * main thread rather than on its reads, on worker threads that decode the pages' rows and judge
 * them with the same code (audience-judge.ts) while the main thread passes the pages before on.
 * A page no thread answered is judged on the main thread, so no answer depends on a thread.
 */

/** A page as read: the rows of `AudienceCapability.audienceRows`, or the entries of `audience`. */
export type ReadPage = { rows: AudienceRowsPage } | { entries: AudienceEntry[] };

/** What a page is judged against, taken as it is judged (read time). */
export interface Judging {
  requirement: Requirement;
  now: number;
}

/**
 * When a listing judges its pages on threads. Internal: tests lower `minSubjects` and
 * `measuredPages` and raise `mainBound` to have threads at once.
 */
export const audienceThreads = {
  /**
   * Subjects judged on the main thread first: a small audience is listed before a thread would
   * start, and the readers of an SQLite file open meanwhile (after 16,384 rows: their first pages
   * wait on the opening, which says nothing of the pace).
   */
  minSubjects: 32_768,
  /** Pages the pace is then judged on (after the first ones: code not yet optimized, the readers of an SQLite file not yet open). */
  measuredPages: 4,
  /**
   * Threads start only when the main thread set the pace so far: it waited for the database
   * less than this share of the time it spent on the pages. A listing that mostly waits for its
   * reads (a database server on the same cores, busy building the pages) would only lose the
   * cores threads take.
   */
  mainBound: 0.35,
  /** A listing left without a page this long (its caller stopped reading) lets its threads go; later pages are judged on the main thread. */
  idleMs: 10_000,
};

/** Subjects on a page as read (a page of rows as many as it says, until it is decoded). */
const subjectsOf = (page: ReadPage, limit: number): number => ('rows' in page ? (page.rows.full ? limit : 0) : page.entries.length);

/** Entries judged on the main thread between two looks at the clock (see `TurnTaker`). */
const CHUNK = 32;

/**
 * The entries of a page of rows, decoded on the main thread.
 * @throws ConsentStoreError when the rows do not decode (as a failed read).
 */
function decodedRows(page: AudienceRowsPage): AudienceEntry[] {
  try {
    return audienceEntriesOfText(page.rows);
  } catch (error) {
    throw new ConsentStoreError('the store gave an audience page that does not decode', error);
  }
}

/**
 * A judged page of rows, once it holds what its read said: as many subjects as asked when full
 * (fewer otherwise), the last one the read named. Checked after the page is judged, so that
 * rows failing their seals are refused as such.
 * @throws ConsentStoreError when it holds other subjects (the next page would start elsewhere).
 */
function asRead(page: AudienceRowsPage, judged: JudgedPage, subjects: number, last: string | null, limit: number): JudgedPage {
  if (judged.failure !== null) return judged;
  if (last !== (page.last?.toLowerCase() ?? null) || page.full !== (subjects === limit)) {
    throw new ConsentStoreError('an audience page holds other subjects than its read said');
  }
  return judged;
}

/** A thread's answer as a judged page. */
function answered(answer: NonNullable<AudienceThreadAnswer>): JudgedPage {
  const { ids, ends, states, skipped, unreadable, failure } = answer;
  const members: JudgedPage['members'] = [];
  let start = 0;
  for (let i = 0; i < ends.length; i += 1) {
    const end = ends[i] as number;
    members.push({ subjectId: ids.slice(start, end), state: STATES[states[i] as number] as State });
    start = end;
  }
  return { members, skipped, unreadable, failure };
}

/** The threads of one listing, started once it has read more than a small store holds, if its main thread is what it waits on. */
export class AudienceThreads {
  private pool: AudiencePool | null = null;
  private tried = false;
  private read = 0;
  private pages = 0;
  private idle: NodeJS.Timeout | null = null;
  private waited = 0;
  private worked = 0;
  private readonly turns = new TurnTaker();

  constructor(private readonly keys: JudgeKeys, private readonly match: AudienceMatch, private readonly limit: number) {}

  /** Milliseconds the listing waited for a page, and spent on it; counted once it has read `minSubjects`. */
  paced(waited: number, worked: number): void {
    if (this.read <= audienceThreads.minSubjects) return;
    this.pages += 1;
    this.waited += waited;
    this.worked += worked;
  }

  /** Threads judging pages (a pool is running). */
  get running(): number {
    return this.pool?.size ?? 0;
  }

  /**
   * `page` judged by a thread as `judging` says, or null to judge it here (`judgeHere`): a
   * small listing so far, a page of entries, or no thread to have.
   */
  ahead(page: ReadPage, judging: Judging): Promise<JudgedPage | null> | null {
    this.read += subjectsOf(page, this.limit);
    if (!this.tried && this.pages >= audienceThreads.measuredPages) {
      this.tried = true;
      if (this.waited <= this.worked * audienceThreads.mainBound) this.pool = AudiencePool.start(this.keys);
    }
    const pool = this.pool;
    if (pool === null || pool.size === 0 || !('rows' in page)) return null;
    this.touch();
    const { rows } = page;
    return pool.judge(rows.rows, judging.requirement, this.match, judging.now)
      .then((answer) => (answer === null ? null : asRead(rows, answered(answer), answer.subjects, answer.last, this.limit)));
  }

  /**
   * `page` judged on the main thread in chunks (both steps of `judgeEntries` in turn, so that a
   * page fails for the same reason as on a thread), giving the event loop turns as it goes: the
   * next page is being read meanwhile (see event-loop-turns.ts).
   */
  async judgeHere(page: ReadPage, judging: Judging): Promise<JudgedPage> {
    const entries = 'rows' in page ? decodedRows(page.rows) : page.entries;
    const matched: Matched[] = [];
    let skipped = 0;
    for (let from = 0; from < entries.length; from += CHUNK) {
      const part = sealedMatches(this.keys, entries.slice(from, from + CHUNK), judging.requirement, this.match, judging.now);
      if (part.failure !== null) return { members: [], skipped: 0, unreadable: 0, failure: part.failure };
      matched.push(...part.matched);
      skipped += part.skipped;
      if (this.turns.due(CHUNK)) await nextTurn();
    }
    const judged: JudgedPage = { members: [], skipped, unreadable: 0, failure: null };
    for (let from = 0; from < matched.length; from += CHUNK) {
      const part = openedMembers(this.keys, matched.slice(from, from + CHUNK));
      if (part.failure !== null) return { members: [], skipped: 0, unreadable: 0, failure: part.failure };
      judged.members.push(...part.members);
      judged.unreadable += part.unreadable;
      if (this.turns.due(CHUNK)) await nextTurn();
    }
    return 'rows' in page ? asRead(page.rows, judged, entries.length, entries.at(-1)?.snapshot.chain ?? null, this.limit) : judged;
  }

  close(): void {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = null;
    this.pool?.close();
    this.pool = null;
  }

  /** (Re)starts the idle timer: a listing its caller stopped reading without ending it lets its threads go. */
  private touch(): void {
    if (this.idle !== null) this.idle.refresh();
    else this.idle = setTimeout(() => { this.close(); }, audienceThreads.idleMs).unref();
  }
}

/**
 * Pages judged in order, each as `judging()` says at the time it is judged: on threads (pages
 * ahead: two for each thread and one more, so that a thread done with a page finds the next one
 * waiting while the main thread passes ids on) or on the main thread. A read that fails fails
 * the listing once the pages read before it are passed on.
 */
export async function* judgedPages(pages: AsyncIterable<ReadPage>, threads: AudienceThreads, judging: () => Judging): AsyncGenerator<JudgedPage> {
  // A thread's judgement is kept settled (a page that failed fails the listing in its turn, not before).
  type Ahead = Promise<{ judged: JudgedPage | null } | { error: unknown }> | null;
  const queue: Array<{ page: ReadPage; judging: Judging; ahead: Ahead }> = [];
  const reads = pages[Symbol.asyncIterator]();
  let failure: { error: unknown } | null = null;
  // The first page of the queue, judged (by its thread, or here when none answered).
  const judged = async (): Promise<JudgedPage> => {
    const first = queue.shift() as (typeof queue)[number];
    const ahead = await first.ahead;
    if (ahead !== null && 'error' in ahead) throw ahead.error;
    return ahead?.judged ?? (await threads.judgeHere(first.page, first.judging));
  };
  const settled = (judging: Promise<JudgedPage | null> | null): Ahead => judging?.then((judged) => ({ judged }), (error: unknown) => ({ error })) ?? null;
  try {
    for (;;) {
      const asked = performance.now();
      let next: IteratorResult<ReadPage>;
      try {
        next = await reads.next();
      } catch (error) {
        failure = { error };
        break;
      }
      if (next.done === true) break;
      const waited = performance.now() - asked;
      const now = judging();
      queue.push({ page: next.value, judging: now, ahead: settled(threads.ahead(next.value, now)) });
      if (queue.length > threads.running * 2) {
        const handed = performance.now();
        yield await judged();
        // Before threads start: how long the page took to come, against the time spent on it.
        if (threads.running === 0) threads.paced(waited, performance.now() - handed);
      }
    }
    while (queue.length > 0) yield await judged();
    if (failure !== null) throw failure.error;
  } finally {
    threads.close();
    await reads.return?.();
  }
}

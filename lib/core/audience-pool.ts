import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { threadScript } from '../audit/thread';
import { ThreadPool } from '../audit/thread-pool';
import type { AudienceMatch, JudgeKeys, JudgedPage } from './audience-judge';
import type { Requirement } from '../types';
import type { LookupVerdicts } from './lookup-judge';

/**
 * A worker thread's answer for a page of rows (see audience-worker.ts): the judged page, its
 * listed ids end to end (`ends[i]` where the i-th ends) and their states (indexes into
 * `STATES`), which cross to the main thread faster than an object or a string per member; and
 * the page's count of subjects and last chain key, to hold against what its read said. Null when
 * the thread could not decode the page.
 */
export type AudienceThreadAnswer =
  | (Omit<JudgedPage, 'members'> & { ids: string; ends: Uint32Array; states: Uint8Array; subjects: number; last: string | null })
  | null;

/**
 * The threads of large audiences. Internal: tests set `size`, or point `script` at something
 * that cannot start; `started`, `failed` and `stopped` count threads, `lookups` the batches
 * they judged.
 */
export const audienceWorkers = {
  /**
   * Threads: as many as there are cores (up to four). Once they judge the pages, the main thread
   * only passes pages on, and the database's own threads are mostly waiting on the disk or on
   * its server.
   */
  size: Math.min(4, availableParallelism()),
  script: threadScript('audience-worker', typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url),
  started: 0,
  failed: 0,
  stopped: 0,
  /** `filterAllowed()` batches a thread judged. */
  lookups: 0,
};

/**
 * Threads that decode and judge pages of audience rows (the JSON text of
 * `AudienceCapability.audienceRows`), and `filterAllowed()`'s batches.
 */
export class AudiencePool {
  private constructor(private readonly pool: ThreadPool) {}

  /** A pool of `audienceWorkers.size` threads judging with `keys`, or null when there is none to have. */
  static start(keys: JudgeKeys): AudiencePool | null {
    const { size, script } = audienceWorkers;
    if (size < 1 || script === null) return null;
    const data = { chain: new Uint8Array(keys.chain), pseudonym: new Uint8Array(keys.pseudonym), subjectSiv: new Uint8Array(keys.subjectSiv), subject: new Uint8Array(keys.subject) };
    return new AudiencePool(new ThreadPool(script, data, size, audienceWorkers));
  }

  /** Threads running. */
  get size(): number {
    return this.pool.size;
  }

  /** A thread's judgement of `rows` (null when no thread answered, or it could not decode them). */
  judge(rows: string, requirement: Requirement, match: AudienceMatch, now: number): Promise<AudienceThreadAnswer> {
    return this.pool.run({ rows, requirement, match, now }) as Promise<AudienceThreadAnswer>;
  }

  /** The pseudonyms of `subjects` end to end (`packedPseudonyms`), or null when no thread answered. */
  pseudonyms(subjects: readonly string[]): Promise<string | null> {
    return this.pool.run({ kind: 'pseudonyms', subjects }) as Promise<string | null>;
  }

  /** A thread's `lookupVerdicts` of `rows` for `pseudonyms` (packed), or null when no thread answered or it could not decode them. */
  verdicts(rows: string, pseudonyms: string, requirement: Requirement, now: number, gpc: boolean): Promise<LookupVerdicts | null> {
    return (this.pool.run({ kind: 'verdicts', rows, pseudonyms, requirement, now, gpc }) as Promise<LookupVerdicts | null>).then((answer) => {
      if (answer !== null) audienceWorkers.lookups += 1;
      return answer;
    });
  }

  close(): void {
    this.pool.close();
  }
}

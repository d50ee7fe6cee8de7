import { ConsentStoreError } from '../errors';
import type { ConsentLogger } from '../options';
import type { Requirement } from '../types';
import { audienceThreads } from './audience-checks';
import type { JudgeKeys } from './audience-judge';
import { AudiencePool } from './audience-pool';
import { lookupVerdicts, packedPseudonyms, unpackedPseudonyms, type LookupVerdicts } from './lookup-judge';
import { integrityFailure } from './trusted';

/*
 * `filterAllowed()` over a long list, on worker threads: a batch's pseudonyms are computed and
 * the rows read for them judged there (lookup-judge.ts), so that the main thread only passes
 * batches on. Threads start under the audience's rule (`audienceThreads`): once the list is
 * longer than a small store holds, and only when the main thread, not the store, set the pace.
 */

/** Reads the rows of a batch as JSON text (`AudienceCapability.snapshotRows`); null to read it the usual way. */
export type RowsReader = (pseudonyms: readonly string[]) => Promise<string | null>;

/** What a batch is judged against, taken as it is judged. */
export interface LookupJudging {
  requirement: Requirement;
  now: number;
}

/** A batch judged on a thread (or here when none answered), with what it takes to judge it again at another time. */
export interface ThreadVerdicts {
  verdicts: LookupVerdicts;
  judged: LookupJudging;
  text: string;
  pseudonyms: string[];
}

// Thrown into a batch still being read when the iteration stopped: nobody awaits it.
const STOPPED = new Error('filterAllowed() stopped');

/** The threads of one `filterAllowed()` iteration, started once it is long enough and bound by its main thread. */
export class FilterThreads {
  private pool: AudiencePool | null = null;
  private tried = false;
  private closed = false;
  private idle: NodeJS.Timeout | null = null;
  private seen = 0;
  private batches = 0;
  private waited = 0;
  private worked = 0;

  constructor(private readonly keys: JudgeKeys, private readonly rows: RowsReader | null, private readonly logger: ConsentLogger) {}

  /** Whether threads judge the batches. */
  get running(): boolean {
    return this.pool !== null && this.pool.size > 0;
  }

  /** Counts a batch of `size` ids; the pool to judge it on, or null to judge it on the main thread. */
  next(size: number): AudiencePool | null {
    this.seen += size;
    if (!this.tried && !this.closed && this.seen > audienceThreads.minSubjects && this.batches >= audienceThreads.measuredPages) {
      this.tried = true;
      if (this.rows !== null && this.waited <= this.worked * audienceThreads.mainBound) this.pool = AudiencePool.start(this.keys);
    }
    if (!this.running) return null;
    this.touch();
    return this.pool;
  }

  /** Milliseconds the main thread waited for a batch's reads, and spent checking it; counted once the list is past `minSubjects`. */
  paced(waited: number, worked: number): void {
    if (this.seen <= audienceThreads.minSubjects) return;
    this.batches += 1;
    this.waited += waited;
    this.worked += worked;
  }

  /**
   * A batch judged on `pool` (as `judging()` says once its rows are read; a seal failure is
   * only reported by `current`, when the batch is handed out); or the batch's pseudonyms when
   * the store could not give its rows as text (the caller reads the batch the usual way). A
   * thread that does not answer leaves its work to the main thread.
   * @throws ConsentStoreError when the rows do not decode or leave out a subject.
   */
  async verdicts(pool: AudiencePool, subjects: readonly string[], judging: () => LookupJudging, gpc: boolean): Promise<ThreadVerdicts | { pseudonyms: string[] }> {
    const fromThread = await pool.pseudonyms(subjects);
    this.stopIfClosed();
    const packed = fromThread ?? packedPseudonyms(this.keys.pseudonym, subjects);
    const pseudonyms = unpackedPseudonyms(packed);
    const text = await (this.rows as RowsReader)(pseudonyms);
    this.stopIfClosed();
    if (text === null) return { pseudonyms };
    const judged = judging();
    const answer = await pool.verdicts(text, packed, judged.requirement, judged.now, gpc);
    this.stopIfClosed();
    return { verdicts: answer ?? this.judgeHere(text, pseudonyms, judged, gpc), judged, text, pseudonyms };
  }

  /**
   * A batch's verdicts as it is handed out, at `judging.now` under `judging.requirement`: as
   * they were judged while they still hold (the same version, no expiry passed in between),
   * else judged again here.
   * @throws ConsentIntegrityError (logged) when a subject's rows failed their seal;
   *   ConsentStoreError when they do not decode again.
   */
  current(batch: ThreadVerdicts, judging: LookupJudging, gpc: boolean): Uint8Array {
    const { verdicts, judged } = batch;
    if (verdicts.failure !== null) throw integrityFailure(this.logger, verdicts.failure);
    if (judging.requirement.version === judged.requirement.version && judging.now >= judged.now && judging.now < verdicts.until) return verdicts.allowed;
    const again = this.judgeHere(batch.text, batch.pseudonyms, judging, gpc);
    if (again.failure !== null) throw integrityFailure(this.logger, again.failure);
    return again.allowed;
  }

  /** Ends the iteration: its threads go, and the batches still being read are dropped unjudged. */
  close(): void {
    this.closed = true;
    this.release();
  }

  /**
   * Lets the threads go; the batches still with them are judged here. An iteration that goes on
   * after an idle spell may start threads again.
   */
  private release(): void {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = null;
    this.pool?.close();
    this.pool = null;
    this.tried = this.closed;
  }

  /** @throws ConsentStoreError when the rows do not decode or leave out a subject. */
  private judgeHere(text: string, pseudonyms: readonly string[], judging: LookupJudging, gpc: boolean): LookupVerdicts {
    try {
      return lookupVerdicts(this.keys.chain, text, pseudonyms, judging.requirement, judging.now, gpc);
    } catch (error) {
      throw new ConsentStoreError('the store gave lookup rows that do not decode, or that leave out a subject asked for', error);
    }
  }

  private stopIfClosed(): void {
    if (this.closed) throw STOPPED;
  }

  /** (Re)starts the idle timer: an iteration its caller dropped without ending it lets its threads go. */
  private touch(): void {
    if (this.idle !== null) this.idle.refresh();
    else this.idle = setTimeout(() => { this.release(); }, audienceThreads.idleMs).unref();
  }
}

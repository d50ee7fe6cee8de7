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

/** The threads of one `filterAllowed()` iteration, started once it is long enough and bound by its main thread. */
export class FilterThreads {
  private pool: AudiencePool | null = null;
  private tried = false;
  private seen = 0;
  private batches = 0;
  private waited = 0;
  private worked = 0;

  constructor(private readonly keys: JudgeKeys, private readonly rows: RowsReader | null) {}

  /** Counts a batch of `size` ids; the pool to judge it on, or null to judge it on the main thread. */
  next(size: number): AudiencePool | null {
    this.seen += size;
    if (!this.tried && this.seen > audienceThreads.minSubjects && this.batches >= audienceThreads.measuredPages) {
      this.tried = true;
      if (this.rows !== null && this.waited <= this.worked * audienceThreads.mainBound) this.pool = AudiencePool.start(this.keys);
    }
    return this.running ? this.pool : null;
  }

  /** Whether threads judge the batches. */
  get running(): boolean {
    return this.pool !== null && this.pool.size > 0;
  }

  /** Milliseconds the main thread waited for a batch's reads, and spent checking it; counted once the list is past `minSubjects`. */
  paced(waited: number, worked: number): void {
    if (this.seen <= audienceThreads.minSubjects) return;
    this.batches += 1;
    this.waited += waited;
    this.worked += worked;
  }

  /**
   * A byte per subject of the batch (1 allowed), judged on `pool`; or the batch's pseudonyms when
   * the store could not give its rows as text (the caller reads the batch the usual way). A
   * thread that does not answer leaves its work to the main thread.
   * @throws ConsentStoreError when the rows do not decode; ConsentIntegrityError (logged) when a
   *   subject's rows fail their seal.
   */
  async verdicts(pool: AudiencePool, subjects: readonly string[], judging: () => LookupJudging, gpc: boolean, logger: ConsentLogger): Promise<{ allowed: Uint8Array } | { pseudonyms: string[] }> {
    const packed = (await pool.pseudonyms(subjects)) ?? packedPseudonyms(this.keys.pseudonym, subjects);
    const pseudonyms = unpackedPseudonyms(packed);
    const text = await (this.rows as RowsReader)(pseudonyms);
    if (text === null) return { pseudonyms };
    const { requirement, now } = judging();
    let judged: LookupVerdicts | null = await pool.verdicts(text, packed, requirement, now, gpc);
    if (judged === null) {
      try {
        judged = lookupVerdicts(this.keys.chain, text, pseudonyms, requirement, now, gpc);
      } catch (error) {
        throw new ConsentStoreError('the store gave lookup rows that do not decode', error);
      }
    }
    if (judged.failure !== null) throw integrityFailure(logger, judged.failure);
    return { allowed: judged.allowed };
  }

  close(): void {
    this.pool?.close();
    this.pool = null;
  }
}

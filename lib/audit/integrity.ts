/* The findings of `verify()`, shared by the chains' and the log's checks. */

/**
 * What `verify()` can find wrong with the store. `rollback`: the store does not hold what the
 * global log says it held (an event the log names is gone, or an event is missing from the log,
 * or the log does not extend a checkpoint). `chain_missing` is no longer reported (a removed
 * chain's events are each a `rollback`); it stays in the union for programs that name it.
 */
export type IntegrityKind =
  | 'modified'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'truncated'
  | 'chain_missing'
  | 'rollback'
  | 'state_mismatch'
  | 'subject_link'
  | 'text_changed';

/**
 * One finding: what happened, and to what. `eventId` names the event concerned; when no event
 * id is known it names a position instead: `<chain>:<seq>`, `log:<leaf index>` (a place in the
 * global log), `log` (its sealed head), `checkpoint:<size>` or `requirement:<id>:<version>`.
 * `chain` names a subject's chain (its internal key), `requirement` (and `version`) a
 * requirement, where known.
 */
export interface IntegrityProblem {
  eventId: string;
  kind: IntegrityKind;
  chain?: string;
  requirement?: string;
  version?: number;
}

/** What `verify()` resolves to. */
export interface VerifyResult {
  ok: boolean;
  /** Events read. */
  checked: number;
  problems: IntegrityProblem[];
}

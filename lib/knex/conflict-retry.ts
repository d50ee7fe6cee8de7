import type { Knex } from 'knex';
import { scatterChainKeys } from './batch-rows';

/**
 * PostgreSQL's codes for a transaction it rolled back to settle a conflict with another one:
 * `deadlock_detected` and `serialization_failure`. Nothing of the transaction remains, so it
 * may run again.
 */
const CONFLICT_CODES = new Set(['40P01', '40001']);

/** Runs of a transaction at most, the first one included. */
export const CONFLICT_ATTEMPTS = 3;

/** Whether `error` is PostgreSQL rolling a transaction back for a conflict. */
export function isConflict(error: unknown): boolean {
  return typeof error === 'object' && error !== null && CONFLICT_CODES.has(String((error as { code?: unknown }).code));
}

/**
 * Runs `work` in a transaction, and runs it again in a new one (at most `CONFLICT_ATTEMPTS`
 * runs) when the database rolled it back for a conflict before it was asked to commit. A
 * failed commit is never run again: it may have committed. `beforeRetry` runs before each new
 * run (to move away from what the conflict was about).
 */
export async function transactionRetryingConflicts<T>(
  knex: Knex,
  work: (trx: Knex.Transaction) => Promise<T>,
  beforeRetry: () => void = () => {},
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    let committing = false;
    let failed: { error: unknown } | null = null;
    try {
      return await knex.transaction(async (trx) => {
        let result: T;
        try {
          result = await work(trx);
        } catch (error) {
          failed = { error };
          throw error;
        }
        committing = true;
        return result;
      });
    } catch (rejected) {
      // A ROLLBACK that fails too (the connection died) rejects with its own error: the work's
      // says what went wrong, and may be the library's own (a refused write, not a 503).
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set inside the transaction's callback, which the rule does not follow
      const error = failed === null ? rejected : (failed as { error: unknown }).error;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above
      if (committing || attempt >= CONFLICT_ATTEMPTS || !isConflict(error)) throw error;
      beforeRetry();
    }
  }
}

/**
 * A write's transaction, run again after a conflict with its next chain keys taken from
 * elsewhere (the conflict a write meets: two writers creating one new subject while taking one
 * new chain key).
 */
export function writeTransaction<T>(knex: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return transactionRetryingConflicts(knex, work, scatterChainKeys);
}

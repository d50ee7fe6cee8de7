import { ConsentStoreError, isConsentError, type ConsentError } from '../errors';

/**
 * Waits for a storage call with a deadline. A rejection or an answer slower than `timeoutMs`
 * becomes `store_unavailable`, so that no caller can mistake a storage failure for an answer.
 * Errors the library raised on purpose (a validation inside a write) pass through unchanged.
 * `what` names the call in the message (`storage did not answer <what> within … ms`).
 *
 * `ended`, when given, runs as the caller's wait ends (before it resumes), and again when a
 * call that missed its deadline settles after all.
 */
export function deadline<T>(call: PromiseLike<T>, timeoutMs: number, what: string, ended?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      ended?.();
      reject(new ConsentStoreError(`storage did not answer ${what} within ${String(timeoutMs)} ms`));
    }, timeoutMs);
    call.then(
      (value) => {
        clearTimeout(timer);
        ended?.();
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        ended?.();
        reject(storeFailure(error, what));
      },
    );
  });
}

/**
 * A storage failure as callers see it: the library's own errors (from any copy of it) as they
 * are, others as `store_unavailable`.
 */
export function storeFailure(error: unknown, what: string): ConsentError {
  return isConsentError(error) ? error : new ConsentStoreError(`storage failed during ${what}`, error);
}


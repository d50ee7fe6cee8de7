import { ConsentError, ConsentStoreError } from '../errors';

/**
 * Runs a storage call with a deadline. A rejection or a call slower than `timeoutMs` becomes
 * `store_unavailable`, so that no caller can mistake a storage failure for an answer.
 * Errors the library raised on purpose (a validation inside a write) pass through unchanged.
 */
export async function storeCall<T>(timeoutMs: number, what: string, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ConsentStoreError(`storage did not answer ${what} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([call(), deadline]);
  } catch (error) {
    if (error instanceof ConsentError) throw error;
    throw new ConsentStoreError(`storage failed during ${what}`, error);
  } finally {
    clearTimeout(timer);
  }
}

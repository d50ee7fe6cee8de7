import { ConsentStoreError } from '../errors';

/**
 * The storage calls of one consent instance, closed by `consent.close()`: from then on a call
 * fails as `store_unavailable` without reaching the store, and `close()` waits for the calls
 * still out. So nothing asks a Knex pool for a connection after `close()` resolved: a host that
 * then destroys its Knex instance would otherwise leave such a request waiting (and the process
 * running) until the pool's acquire timeout, as a listing its caller dropped while a page was
 * read ahead did.
 */
export class CallGate {
  private closed = false;
  private readonly out = new Set<Promise<unknown>>();

  /**
   * What `start()` returns, or a rejection once closed. A Promise it returns (the call as its
   * caller waits for it: with its deadline) is waited for by `close()`.
   */
  pass(start: () => unknown): unknown {
    if (this.closed) return Promise.reject(new ConsentStoreError('the consent instance was closed'));
    const answer = start();
    if (answer instanceof Promise) {
      const settled = answer.then(() => undefined, () => undefined);
      this.out.add(settled);
      void settled.then(() => { this.out.delete(settled); });
    }
    return answer;
  }

  /** Refuses every later call, and resolves once the calls out have answered (or missed their deadlines). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.out.size > 0) await Promise.all([...this.out]);
  }
}

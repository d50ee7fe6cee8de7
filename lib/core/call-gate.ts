import { ConsentStoreError } from '../errors';

/**
 * A storage call refused because `consent.close()` was called. A route answering 503 with it
 * logs that once (`logOnce`), not once per request of a server still shutting down.
 */
export class InstanceClosedError extends ConsentStoreError {
  constructor() {
    super('the consent instance was closed');
    this.extensions.logOnce = 'the consent instance was closed (consent.close()): requests that need the store get 503 until the server stops';
  }
}

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
    if (this.closed) return Promise.reject(new InstanceClosedError());
    const answer = start();
    if (answer instanceof Promise) this.track(answer);
    return answer;
  }

  /** Has `close()` wait for `work` too (a `ready()` under way, which fails at its next call). */
  track(work: Promise<unknown>): void {
    const settled = work.then(() => undefined, () => undefined);
    this.out.add(settled);
    void settled.then(() => { this.out.delete(settled); });
  }

  /**
   * Refuses every later call, and resolves once the calls out have answered, or after `waitMs`
   * at the most: a store that stopped answering must not hold a shutdown for the long deadlines
   * of startup and store-wide work.
   */
  async close(waitMs: number): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => { timer = setTimeout(resolve, waitMs); });
    const drained = (async () => {
      while (this.out.size > 0) await Promise.all([...this.out]);
    })();
    await Promise.race([drained, waited]);
    clearTimeout(timer);
  }
}

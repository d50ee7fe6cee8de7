import { nextTurn } from '../event-loop-turns';
import type { Knex } from 'knex';
import type { Statement } from './bulk-sql';

/**
 * Runs statements in order on a transaction's one connection while JavaScript prepares the
 * next ones: the database works (in the driver's thread) while the caller hashes, so a bulk
 * write costs closer to the larger of the two than to their sum.
 */
export class StatementPipeline {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly trx: Knex.Transaction) {}

  /**
   * Queues `statements` after those already queued and returns at once. After a failure nothing
   * more runs; `drain` reports it.
   */
  push(statements: readonly Statement[]): void {
    for (const { sql, bindings } of statements) {
      this.tail = this.tail.then(async () => {
        // Without bindings Knex leaves the (large) text alone instead of scanning it for `?`.
        await (bindings.length > 0 ? this.trx.raw(sql, bindings as Knex.RawBinding[]) : this.trx.raw(sql));
      });
    }
    // Reported by drain(); until then the rejection must not count as unhandled.
    this.tail.catch(() => undefined);
  }

  /** Lets the event loop turn, so that a queued statement reaches the driver and starts. */
  async turn(): Promise<void> {
    await nextTurn();
  }

  /** Waits for every queued statement; rejects with the first failure. */
  drain(): Promise<void> {
    return this.tail;
  }

  /** Waits for every queued statement, failed or not (before the transaction rolls back). */
  async settle(): Promise<void> {
    await this.tail.catch(() => undefined);
  }
}

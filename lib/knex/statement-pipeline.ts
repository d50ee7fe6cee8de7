import { nextTurn } from '../event-loop-turns';
import type { Knex } from 'knex';
import type { Statement } from './bulk-sql';
import { isPostgres } from './migrate';

/**
 * Runs statements on a transaction's one connection while JavaScript prepares the next ones:
 * the database works (in the driver's thread) while the caller hashes, so a bulk write costs
 * closer to the larger of the two than to their sum.
 *
 * On SQLite each statement is handed to the driver as soon as it is queued, without waiting
 * for the one before: the statements of a write touch distinct rows and none reads what
 * another writes, so their order does not matter, and `sqlite3` then runs them on its thread
 * without a return to the main thread between two (each return waited for a turn of a loop
 * busy with requests). `better-sqlite3` runs each at once. On PostgreSQL each waits for the
 * one before: `pg` no longer wants a query sent while its connection runs one.
 */
export class StatementPipeline {
  private readonly running: Array<Promise<unknown>> = [];
  private tail: Promise<unknown> = Promise.resolve();
  private readonly inOrder: boolean;

  constructor(private readonly trx: Knex.Transaction) {
    this.inOrder = isPostgres(trx);
  }

  /** Queues `statements` and returns at once; `drain` reports a failure. */
  push(statements: readonly Statement[]): void {
    for (const statement of statements) {
      const run = this.inOrder ? this.tail.then(() => this.run(statement)) : this.run(statement);
      // Reported by drain(); until then the rejection must not count as unhandled.
      run.catch(() => undefined);
      this.running.push(run);
      this.tail = run;
    }
  }

  private run({ sql, bindings }: Statement): Promise<unknown> {
    // Without bindings Knex leaves the (large) text alone instead of scanning it for `?`.
    return Promise.resolve(bindings.length > 0 ? this.trx.raw(sql, bindings as Knex.RawBinding[]) : this.trx.raw(sql));
  }

  /** Lets the event loop turn, so that a queued statement reaches the driver and starts. */
  async turn(): Promise<void> {
    await nextTurn();
  }

  /** Waits for every statement; rejects with the failure of the first one queued that failed. */
  async drain(): Promise<void> {
    const settled = await Promise.allSettled(this.running);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Waits for every statement, failed or not (before the transaction rolls back). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.running);
  }
}

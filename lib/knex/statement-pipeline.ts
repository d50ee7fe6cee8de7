import { nextTurn } from '../event-loop-turns';
import type { Knex } from 'knex';
import type { Statement } from './bulk-sql';
import { clientOf, isPostgres } from './migrate';
import { execScript, inlinable, scriptOf, type ScriptConnection } from './sql-script';

/** Runs an SQL script (statements separated by `;`) on the transaction's connection, stopping at the first failure. */
type ScriptRunner = (sql: string) => Promise<void>;

/** The script runner of an SQLite transaction: both drivers' `exec`, which stops at the first failing statement. */
function scriptRunner(trx: Knex.Transaction): ScriptRunner {
  // A transaction's client hands out the transaction's own connection.
  return async (sql) => { await execScript(trx, (await clientOf(trx).acquireConnection()) as ScriptConnection, sql); };
}

/**
 * Runs statements in order on a transaction's one connection while JavaScript prepares the
 * next ones: the database works (in the driver's thread) while the caller hashes, so a bulk
 * write costs closer to the larger of the two than to their sum. After a failure nothing more
 * runs.
 *
 * On SQLite the statements queued between two turns (`turn`, `drain`) go to the database as
 * one script: one trip through the main thread for all of them instead of one each (each
 * waited for a turn of a loop busy with requests). A script stops at its first failing
 * statement, so nothing runs after a failure even if SQLite rolled the whole transaction back
 * (it may, on a full disk, an I/O error or no memory): statements handed over one by one would
 * then have committed alone. On PostgreSQL each statement waits for the one before.
 */
export class StatementPipeline {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly script: ScriptRunner | null;
  private queued: Statement[] = [];

  constructor(private readonly trx: Knex.Transaction) {
    this.script = isPostgres(trx) ? null : scriptRunner(trx);
  }

  /** Queues `statements` after those already queued and returns at once; `drain` reports a failure. */
  push(statements: readonly Statement[]): void {
    if (this.script !== null) {
      this.queued.push(...statements);
      return;
    }
    for (const statement of statements) this.then(() => this.run(statement));
  }

  /** Starts what is queued, and lets the event loop turn so that it reaches the driver. */
  async turn(): Promise<void> {
    this.flush();
    await nextTurn();
  }

  /** Runs what is queued and waits for everything; rejects with the first failure. */
  drain(): Promise<unknown> {
    this.flush();
    return this.tail;
  }

  /** Waits for everything started and rejects with its first failure; starts nothing more (the caller failed). */
  started(): Promise<unknown> {
    this.queued = [];
    return this.tail;
  }

  /** Waits for everything started, failed or not (before the transaction rolls back); starts nothing more. */
  async settle(): Promise<void> {
    this.queued = [];
    await this.tail.catch(() => undefined);
  }

  private flush(): void {
    const script = this.script;
    if (script === null || this.queued.length === 0) return;
    // In order: runs of statements whose values can be written into the text go as one script;
    // any other statement goes through Knex with its values bound.
    let run: Statement[] = [];
    for (const statement of this.queued) {
      if (inlinable(statement.bindings)) {
        run.push(statement);
        continue;
      }
      this.chainScript(script, run);
      run = [];
      this.then(() => this.run(statement));
    }
    this.chainScript(script, run);
    this.queued = [];
  }

  /** Chains `statements` as one script, their values written into the text as Knex quotes them. */
  private chainScript(script: ScriptRunner, statements: Statement[]): void {
    if (statements.length === 0) return;
    this.then(() => script(scriptOf(this.trx, statements)));
  }

  private then(next: () => Promise<unknown>): void {
    this.tail = this.tail.then(next);
    // Reported by drain(); until then the rejection must not count as unhandled.
    this.tail.catch(() => undefined);
  }

  private run({ sql, bindings }: Statement): Promise<unknown> {
    // Without bindings Knex leaves the (large) text alone instead of scanning it for `?`.
    return Promise.resolve(bindings.length > 0 ? this.trx.raw(sql, bindings as Knex.RawBinding[]) : this.trx.raw(sql));
  }
}

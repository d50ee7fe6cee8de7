import { nextTurn } from '../event-loop-turns';
import type { Knex } from 'knex';
import type { Statement } from './bulk-sql';
import { clientOf, isPostgres, isSynchronousDriver } from './migrate';

/** Runs an SQL script (statements separated by `;`) on the transaction's connection, stopping at the first failure. */
type ScriptRunner = (sql: string) => Promise<void>;

type ScriptConnection = { exec(sql: string, done?: (error: Error | null) => void): unknown };

/** The script runner of an SQLite transaction: both drivers' `exec`, which stops at the first failing statement. */
function scriptRunner(trx: Knex.Transaction): ScriptRunner {
  const synchronous = isSynchronousDriver(trx);
  return async (sql) => {
    // A transaction's client hands out the transaction's own connection.
    const connection = (await clientOf(trx).acquireConnection()) as ScriptConnection;
    if (synchronous) {
      connection.exec(sql);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      connection.exec(sql, (error) => { if (error) reject(error); else resolve(); });
    });
  };
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
    // Values bound to a statement are written into its text as literals (Knex's quoting).
    const sql = this.queued.map(({ sql: text, bindings }) => (bindings.length > 0 ? this.trx.raw(text, bindings as Knex.RawBinding[]).toQuery() : text)).join(';\n');
    // Knex's `query` listeners (logging, tests counting statements) still see every statement.
    const client = clientOf(this.trx) as unknown as { emit(event: 'query', query: { sql: string; bindings: unknown[]; method: string }): void };
    for (const { sql: text, bindings } of this.queued) client.emit('query', { sql: text, bindings, method: 'raw' });
    this.queued = [];
    this.then(() => script(sql));
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

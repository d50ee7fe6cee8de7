import type { BatchPlanner, SubjectSnapshot } from '../tracker/records';
import type { Statement } from './bulk-sql';
import { idMarkExpression, releaseIds } from './chain-store';
import type { Outcome } from './coalescer';
import { clientOf } from './migrate';
import { packLeaves } from './packed-leaves';
import { prepareBatch, type PreparedKnexBatch } from './prepare-batch';
import { quote } from './quote';
import { execScript, inlinable, scriptOf, type ScriptConnection } from './sql-script';
import type { TableContext } from './table-context';
import type { WriteRequest, Written } from './write-request';

/**
 * SQLite: a write group whose subjects all look new goes to the database as one script, planned
 * and sealed before it (`prepareBatch`): `BEGIN IMMEDIATE`, the subject rows with their heads,
 * the log entry, the records, the events and `COMMIT`. One trip to the driver instead of five
 * (each waited for a turn of an event loop busy with requests), and one `exec` instead of a
 * statement each on the synchronous driver.
 *
 * The script holds its own checks, as constraints that make a statement fail: a subject stored
 * already (its pseudonym, or a chain key, taken), an id at or above the reserved ones handed out
 * by another process sharing the file (the log entry's leaves are then NULL), or an id taken.
 * SQLite stops at the first failure; the transaction is rolled back, nothing of it stays, and
 * the group is written the usual way. When the transaction ended without that rollback (SQLite
 * rolled it back itself, or the commit failed) it may have committed: every write of the group
 * fails, as after a failed commit, and none is written twice.
 *
 * After a group that was not all new, the next ones are written the usual way (1, 2, 4… up to
 * 64 groups), so that updates of stored subjects seldom pay for a guess that fails.
 */
export class NewSubjectWrites {
  private skip = 0;
  private backoff = 0;

  constructor(
    private readonly ctx: TableContext,
    /** Throws when the database's file was removed or replaced (`ChangeFeed.checkFile`). */
    private readonly checkFile: () => Promise<void>,
  ) {}

  /** The group's outcomes, or null when it is to be written the usual way (nothing of it was). */
  async write(requests: WriteRequest[]): Promise<Outcome<Written>[] | null> {
    if (this.skip > 0) {
      this.skip -= 1;
      return null;
    }
    const outcomes = await this.tryAsNew(requests);
    this.backoff = outcomes === null ? Math.min(64, Math.max(1, this.backoff * 2)) : 0;
    this.skip = this.backoff;
    return outcomes;
  }

  private async tryAsNew(requests: WriteRequest[]): Promise<Outcome<Written>[] | null> {
    const byPseudonym = new Map(requests.map((request) => [request.pseudonym, request]));
    const results = new Map<string, unknown>();
    const plan: BatchPlanner = (pseudonym: string, snapshot: SubjectSnapshot) => {
      const planned = (byPseudonym.get(pseudonym) as WriteRequest).plan(snapshot);
      results.set(pseudonym, planned.result);
      return planned.plan;
    };
    const sorted = [...byPseudonym.keys()].sort();
    // Null when a plan refuses or writes outbox entries: the usual way handles both.
    const prepared = await prepareBatch(this.ctx, sorted, plan);
    const statements = prepared === null ? null : this.statementsOf(prepared);
    if (prepared === null || statements === null) return null;
    try {
      await this.checkFile();
    } catch {
      // The usual way checks again, and refuses every write.
      return null;
    }
    const failure = await this.run(statements);
    if (failure === 'rolled back') {
      const [first, last] = prepared.idRange as [string, string];
      releaseIds(this.ctx, first, last);
      return null;
    }
    if (failure !== null) return requests.map(() => ({ ok: false, error: failure }));
    const position = new Map(sorted.map((pseudonym, i) => [pseudonym, i]));
    return requests.map(({ pseudonym }) => ({
      ok: true,
      value: { result: results.get(pseudonym), eventIds: prepared.ids[position.get(pseudonym) as number] ?? [] },
    }));
  }

  /** The script's statements, or null when it cannot be one script. */
  private statementsOf(prepared: PreparedKnexBatch): Statement[] | null {
    const first = prepared.idRange?.[0];
    if (first === undefined) return null;
    // NULL leaves, refused by the column, unless every id handed out so far is below ours.
    const entry = {
      sql: `insert into ${quote(this.ctx.table('log'))} (${quote('leaves')}) values (case when ${idMarkExpression(this.ctx)} < ${String(Number(first))} then ? end)`,
      bindings: [packLeaves(prepared.leaves)],
    };
    const statements = [{ sql: 'BEGIN IMMEDIATE', bindings: [] }, ...prepared.subjectRows, entry, ...prepared.statements, { sql: 'COMMIT', bindings: [] }];
    return statements.every((s) => inlinable(s.bindings)) ? statements : null;
  }

  /** Runs the script: null once committed, 'rolled back' when nothing of it stays, else the failure. */
  private async run(statements: Statement[]): Promise<unknown> {
    const { knex } = this.ctx;
    const client = clientOf(knex);
    const connection = (await client.acquireConnection()) as ScriptConnection;
    try {
      try {
        await execScript(knex, connection, scriptOf(knex, statements));
        return null;
      } catch (failure) {
        if (await rolledBack(knex, connection, failure)) return 'rolled back';
        return failure;
      }
    } finally {
      await client.releaseConnection(connection);
    }
  }
}

/**
 * After a script failed: rolls its transaction back. True when nothing of it stays: the
 * transaction was still open, or it never began (`BEGIN IMMEDIATE` found the database busy; a
 * busy `COMMIT` leaves the transaction open).
 */
async function rolledBack(knex: TableContext['knex'], connection: ScriptConnection, failure: unknown): Promise<boolean> {
  try {
    await execScript(knex, connection, 'ROLLBACK');
    return true;
  } catch {
    const code = (failure as { code?: unknown } | null)?.code;
    return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
  }
}

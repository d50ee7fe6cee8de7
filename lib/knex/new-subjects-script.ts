import type { Knex } from 'knex';
import type { Statement } from './bulk-sql';
import { idMarkExpression, knowIdMark, releaseIds } from './chain-store';
import type { Outcome } from './coalescer';
import { clientOf } from './migrate';
import { packLeaves } from './packed-leaves';
import { prepareBatch, type PreparedKnexBatch } from './prepare-batch';
import { quote } from './quote';
import { execScript, inlinable, scriptOf, type ScriptConnection } from './sql-script';
import type { TableContext } from './table-context';
import { GroupPlans, type WriteRequest, type Written } from './write-request';

/** Why a group was not written as new subjects; nothing of it was written. */
type NotNew = 'busy' | 'refused' | 'stored';

/**
 * SQLite: a write group whose subjects all look new goes to the database as one script, one
 * trip to the driver instead of five (each waited for a turn of an event loop busy with
 * requests), and one `exec` instead of a statement each on the synchronous driver. With the
 * pool's connection held, the group is planned and sealed as new subjects (`prepareBatch`);
 * then `BEGIN IMMEDIATE`, the subject rows with their heads, the log entry, the records, the
 * events and `COMMIT` go as one script.
 *
 * The script waits for no lock: it takes the write lock with a busy timeout of 0, so that a plan
 * made before it never commits after a wait (a plan refuses a write that waited past its
 * deadline); a database another process is writing makes it fail at once, and the group is
 * written the usual way, which waits. Its other checks are constraints that make a statement
 * fail: a subject stored already (its pseudonym, or a chain key, taken), an id at or above the
 * reserved ones handed out by another process sharing the file (the log entry's leaves are then
 * NULL), or an id taken. SQLite stops at the first failure; the transaction is rolled back,
 * nothing of it stays, and the group is written the usual way. Should the transaction have ended
 * before that rollback, the group fails as after a failed commit, and is not written again. Once
 * committed, the database's file is checked (`ChangeFeed.checkFile`): a file removed or replaced
 * meanwhile fails every write of the group, as their rows went to a file that is gone.
 *
 * After a group that was not written this way, the next ones are written the usual way (1, 2,
 * 4… up to 64 groups), so that updates of stored subjects, plans the usual way must handle (a
 * refusal) and a busy database seldom pay for a guess that fails.
 */
export class NewSubjectWrites {
  private skip = 0;
  private backoff = 0;
  /** The connections' busy timeout, put back once the write lock is taken (read once). */
  private busyTimeout: Promise<number> | null = null;

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
    const outcome = await this.tryAsNew(requests);
    this.backoff = typeof outcome === 'string' ? Math.min(64, Math.max(1, this.backoff * 2)) : 0;
    this.skip = this.backoff;
    if (typeof outcome === 'string') return null;
    await this.checkFile();
    return outcome;
  }

  private async tryAsNew(requests: WriteRequest[]): Promise<Outcome<Written>[] | NotNew> {
    const { knex } = this.ctx;
    // Both read before the pool's only connection is held below.
    await knowIdMark(this.ctx);
    this.busyTimeout ??= readBusyTimeout(knex).catch((error: unknown) => {
      // Read again next time: the store may answer then.
      this.busyTimeout = null;
      throw error;
    });
    const timeout = await this.busyTimeout;
    const client = clientOf(knex);
    const connection = (await client.acquireConnection()) as ScriptConnection;
    try {
      return await this.withConnection(requests, connection, timeout);
    } finally {
      await client.releaseConnection(connection);
    }
  }

  /** Plans, seals and sends the group on `connection`, up to its commit. */
  private async withConnection(requests: WriteRequest[], connection: ScriptConnection, timeout: number): Promise<Outcome<Written>[] | NotNew> {
    const plans = new GroupPlans(requests);
    const sorted = plans.sorted();
    // Null when a plan refuses (its ids given back): the usual way handles it.
    const prepared = await prepareBatch(this.ctx, sorted, (pseudonym, snapshot) => plans.plan(pseudonym, snapshot));
    if (prepared === null) return 'refused';
    const statements = statementsOf(this.ctx, prepared, timeout);
    const failure = statements === null ? 'refused' : await send(this.ctx.knex, connection, statements, timeout);
    if (failure !== null) {
      // Nothing of it written: its ids go back.
      const range = prepared.idRange;
      if (range !== null) releaseIds(this.ctx, ...range);
      return failure;
    }
    const position = new Map(sorted.map((pseudonym, i) => [pseudonym, i]));
    return requests.map(({ pseudonym }) => ({
      ok: true,
      value: { result: plans.results.get(pseudonym), eventIds: prepared.ids[position.get(pseudonym) as number] ?? [] },
    }));
  }
}

/** The busy timeout the pool's connections were given (`PRAGMA busy_timeout`). */
async function readBusyTimeout(knex: Knex): Promise<number> {
  const rows = await knex.raw<Array<{ timeout?: unknown }>>('PRAGMA busy_timeout');
  const timeout = Number(rows[0]?.timeout ?? 0);
  return Number.isSafeInteger(timeout) && timeout >= 0 ? timeout : 0;
}

/** The script's statements, or null when they cannot be one script. */
function statementsOf(ctx: TableContext, prepared: PreparedKnexBatch, timeout: number): Statement[] | null {
  const first = prepared.idRange?.[0];
  if (first === undefined) return null;
  // NULL leaves, refused by the column, unless every id handed out so far is below ours.
  const entry = {
    sql: `insert into ${quote(ctx.table('log'))} (${quote('leaves')}) values (case when ${idMarkExpression(ctx)} < ${String(Number(first))} then ? end)`,
    bindings: [packLeaves(prepared.leaves)],
  };
  const statements = [
    { sql: 'PRAGMA busy_timeout = 0', bindings: [] },
    { sql: 'BEGIN IMMEDIATE', bindings: [] },
    { sql: `PRAGMA busy_timeout = ${String(timeout)}`, bindings: [] },
    ...prepared.subjectRows,
    entry,
    ...prepared.statements,
    { sql: 'COMMIT', bindings: [] },
  ];
  return statements.every((s) => inlinable(s.bindings)) ? statements : null;
}

/**
 * Sends the script: null once committed; 'busy' when another connection held the write lock
 * (nothing began); 'stored' when a statement failed and its transaction was rolled back here
 * (nothing of it stays). Throws the failure when the transaction had ended already: SQLite
 * rolled it back itself, or `COMMIT` failed, and it may have committed (a busy `COMMIT` leaves
 * the transaction open).
 */
async function send(knex: Knex, connection: ScriptConnection, statements: Statement[], timeout: number): Promise<null | 'busy' | 'stored'> {
  try {
    await execScript(knex, connection, scriptOf(knex, statements));
    return null;
  } catch (failure) {
    try {
      await execScript(knex, connection, 'ROLLBACK');
      return 'stored';
    } catch {
      // No transaction open: it never began, or it ended.
    }
    // Stopped at `BEGIN IMMEDIATE` (before the busy timeout was put back), or later.
    await execScript(knex, connection, `PRAGMA busy_timeout = ${String(timeout)}`);
    const code = (failure as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return 'busy';
    throw failure;
  }
}

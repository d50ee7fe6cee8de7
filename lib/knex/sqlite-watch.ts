import type { Knex } from 'knex';
import type { ChangeHandlers } from '../tracker/queries';

/** How often the store is asked whether another connection wrote. */
export const SQLITE_POLL_MS = 100;
// A lone failure (the file briefly locked by a writer without a busy timeout) is not a broken
// feed; this many in a row are. The cache keeps trusting only the last good poll meanwhile.
const FAILURES_BEFORE_ERROR = 3;

/** The slice of Knex's client object used to hold one pooled connection for a poll. */
interface PoolClient {
  acquireConnection(): Promise<object>;
  releaseConnection(connection: object): Promise<void>;
}

type Committed = (pseudonyms: readonly string[]) => void;

// `PRAGMA data_version` never changes for a connection's own commits, and the trackers of one
// process that share a Knex instance write through the same connection: they tell each other.
const sameKnex = new WeakMap<Knex, Set<Committed>>();

/** Tells every watch on `knex` in this process that these subjects' writes have settled. */
export function announceLocally(knex: Knex, pseudonyms: readonly string[]): void {
  const watches = sameKnex.get(knex);
  if (watches) for (const committed of watches) committed(pseudonyms);
}

/**
 * The change feed on SQLite, which has no notifications: one timer per tracker polls
 * `PRAGMA data_version`, which changes when another connection (another process, or another
 * Knex instance) has committed. The connection's own commits (this process's writes through a
 * single-connection pool, the default) do not change it; they reach the watch through
 * `announceLocally` instead, by pseudonym. A change by another connection cannot be traced to
 * its subjects, so it resets everything.
 *
 * The version is remembered per pooled connection: with a larger pool each poll may get
 * another connection, whose first reading (like a reconnected one's) also resets, since a
 * change before it would otherwise go unseen.
 */
export class SqliteWatch {
  private readonly versions = new WeakMap<object, number>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private failures = 0;
  private closed = false;
  private readonly committed: Committed;

  constructor(
    private readonly knex: Knex,
    private readonly handlers: ChangeHandlers,
  ) {
    this.committed = (pseudonyms) => { for (const p of pseudonyms) handlers.onChange(p); };
  }

  /** Registers with this process's other trackers, takes a first reading and starts polling. */
  async begin(): Promise<void> {
    let watches = sameKnex.get(this.knex);
    if (!watches) sameKnex.set(this.knex, (watches = new Set()));
    watches.add(this.committed);
    await this.poll();
    this.timer = setInterval(() => { void this.poll(); }, SQLITE_POLL_MS);
    this.timer.unref();
  }

  private poll(): Promise<void> {
    // One poll at a time: a slow one (the connection busy with a long transaction) is not queued behind.
    this.polling ??= this.check().finally(() => { this.polling = null; });
    return this.polling;
  }

  private async check(): Promise<void> {
    try {
      const { connection, version } = await this.read();
      if (this.closed) return;
      const previous = this.versions.get(connection);
      this.versions.set(connection, version);
      this.failures = 0;
      if (previous !== version) this.handlers.onReset();
      this.handlers.onSynced();
    } catch (error) {
      if (this.closed) return;
      this.failures += 1;
      if (this.failures >= FAILURES_BEFORE_ERROR) this.handlers.onError(error);
    }
  }

  private async read(): Promise<{ connection: object; version: number }> {
    const client = this.knex.client as PoolClient;
    const connection = await client.acquireConnection();
    try {
      const rows = (await this.knex.raw('PRAGMA data_version').connection(connection)) as Array<{ data_version: number }>;
      const version = rows[0]?.data_version;
      if (typeof version !== 'number') throw new Error('PRAGMA data_version returned no version');
      return { connection, version };
    } finally {
      await client.releaseConnection(connection);
    }
  }

  /** Stops polling and waits for a poll in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    sameKnex.get(this.knex)?.delete(this.committed);
    await this.polling;
  }
}

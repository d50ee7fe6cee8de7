import type { Knex } from 'knex';
import type { ChangeHandlers } from '../tracker/queries';
import { handlerFailed } from './handler-failed';

/** How often the store is asked whether another connection wrote. */
export const SQLITE_POLL_MS = 100;
// A lone failure (the file briefly locked by a writer without a busy timeout) is not a broken
// feed; this many in a row are. The cache keeps trusting only the last good poll meanwhile.
const FAILURES_BEFORE_ERROR = 3;

/**
 * The slice of Knex's client object used to hold one pooled connection for a poll. Its pool
 * (tarn) says `destroyed` from the moment `knex.destroy()` begins; it is gone once that ends.
 */
interface PoolClient {
  pool?: { destroyed?: boolean };
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
 * The change feed on SQLite, which has no notifications: `PRAGMA data_version` changes when
 * another connection (another process, or another Knex instance) has committed. The
 * connection's own commits (this process's writes through a single-connection pool, the
 * default) do not change it; they reach the watch through `announceLocally` instead, by
 * pseudonym. A change by another connection cannot be traced to its subjects, so it resets
 * everything.
 *
 * One timer per Knex instance polls for every tracker on it (instances with their own table
 * prefix on one file see the same version): fifty tenants make one query per 100 ms, not fifty.
 *
 * The version is remembered per pooled connection: with a larger pool each poll may get
 * another connection, whose first reading (like a reconnected one's) also resets, since a
 * change before it would otherwise go unseen.
 */
class SharedPoll {
  readonly watchers = new Set<ChangeHandlers>();
  private readonly versions = new WeakMap<object, number>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private failures = 0;

  constructor(private readonly knex: Knex) {}

  /** Adds `handlers`, takes a reading for them and keeps polling. */
  async join(handlers: ChangeHandlers): Promise<void> {
    this.watchers.add(handlers);
    await this.poll();
    if (this.timer === null && this.watchers.size > 0) {
      this.timer = setInterval(() => { void this.poll(); }, SQLITE_POLL_MS);
      this.timer.unref();
    }
  }

  /** Removes `handlers`; the last one stops the timer. Waits for a poll in progress. */
  async leave(handlers: ChangeHandlers): Promise<void> {
    this.watchers.delete(handlers);
    if (this.watchers.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await this.polling;
  }

  private poll(): Promise<void> {
    // One poll at a time: a slow one (the connection busy with a long transaction) is not queued behind.
    this.polling ??= this.check().finally(() => { this.polling = null; });
    return this.polling;
  }

  private async check(): Promise<void> {
    try {
      const { connection, version } = await this.read();
      const previous = this.versions.get(connection);
      this.versions.set(connection, version);
      this.failures = 0;
      for (const handlers of [...this.watchers]) {
        // One watcher's handler that throws is its own failure: the others are still told.
        try {
          if (previous !== version) handlers.onReset();
          handlers.onSynced();
        } catch (error) {
          handlerFailed(handlers, error);
        }
      }
    } catch (error) {
      this.failures += 1;
      if (this.failures >= FAILURES_BEFORE_ERROR) {
        for (const handlers of [...this.watchers]) {
          try {
            handlers.onError(error);
          } catch {
            // its own failure: the others are still told
          }
        }
      }
    }
  }

  private async read(): Promise<{ connection: object; version: number }> {
    const client = this.knex.client as PoolClient;
    // A pool being destroyed neither gives a connection nor refuses one: the acquire would wait
    // for its timeout (a minute by default), and close() for the poll.
    if (client.pool?.destroyed === true) throw new Error('the Knex instance is being destroyed');
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
}

const polls = new WeakMap<Knex, SharedPoll>();

/** One tracker's watch: joins the poll of its Knex instance and hears its writes. */
export class SqliteWatch {
  private readonly committed: Committed;
  private readonly own: ChangeHandlers;
  private closed = false;

  constructor(
    private readonly knex: Knex,
    handlers: ChangeHandlers,
  ) {
    this.committed = (pseudonyms) => { for (const p of pseudonyms) handlers.onChange(p); };
    // Nothing reaches a closed watch, even from a poll that was under way.
    const open = (fn: () => void): void => { if (!this.closed) fn(); };
    this.own = {
      onChange: (p) => { open(() => { handlers.onChange(p); }); },
      onReset: () => { open(() => { handlers.onReset(); }); },
      onSynced: () => { open(() => { handlers.onSynced(); }); },
      onError: (error) => { open(() => { handlers.onError(error); }); },
    };
  }

  /** Registers with this process's other trackers, takes a first reading and starts polling. */
  async begin(): Promise<void> {
    let watches = sameKnex.get(this.knex);
    if (!watches) sameKnex.set(this.knex, (watches = new Set()));
    watches.add(this.committed);
    let poll = polls.get(this.knex);
    if (!poll) polls.set(this.knex, (poll = new SharedPoll(this.knex)));
    await poll.join(this.own);
  }

  /** Stops polling and waits for a poll in progress. */
  async close(): Promise<void> {
    this.closed = true;
    sameKnex.get(this.knex)?.delete(this.committed);
    const poll = polls.get(this.knex);
    if (!poll) return;
    await poll.leave(this.own);
    if (poll.watchers.size === 0 && polls.get(this.knex) === poll) polls.delete(this.knex);
  }
}

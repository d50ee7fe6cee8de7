import type { Knex } from 'knex';
import type { ChangeHandlers } from '../tracker/queries';
import { isPostgres, isSqlite } from './migrate';
import { listen } from './pg-listener';
import { SqliteFile, type OpenedFile } from './sqlite-file';
import { SqliteWatch, announceLocally } from './sqlite-watch';

/**
 * How a Knex tracker tells other processes (and other trackers on the same Knex) which subjects
 * changed: on PostgreSQL a NOTIFY inside each writing transaction and a LISTENing connection;
 * on SQLite a poll of `PRAGMA data_version` plus a word to this process's other trackers once a
 * write settles. Off, `subscribe` resolves to null and caches rely on their lifetime.
 */
export class ChangeFeed {
  private readonly postgres: boolean;
  private readonly sqlite: boolean;
  /** SQLite: the database's file, which every write checks is still there (with the feed on or off). */
  private readonly file: SqliteFile | null;

  constructor(
    private readonly knex: Knex,
    /** The PostgreSQL channel. */
    readonly channel: string,
    enabled: boolean,
  ) {
    this.postgres = enabled && isPostgres(knex);
    this.sqlite = enabled && isSqlite(knex);
    this.file = isSqlite(knex) ? new SqliteFile(knex) : null;
  }

  /**
   * Inside a writing transaction, before it commits: on PostgreSQL announces the pseudonyms,
   * delivered on commit only, to every listening process (pseudonyms, never ids); on SQLite
   * refuses the write when the database's file was removed or replaced (see `SqliteFile`).
   */
  async announce(trx: Knex.Transaction, pseudonyms: string[]): Promise<void> {
    await this.file?.check(trx);
    if (!this.postgres || pseudonyms.length === 0) return;
    if (pseudonyms.length === 1) await trx.raw('select pg_notify(?, ?)', [this.channel, pseudonyms[0] as string]);
    else await trx.raw('select pg_notify(?, p) from unnest(?::text[]) as p', [this.channel, pseudonyms]);
  }

  /**
   * Once a write sent as one script with its `COMMIT` has committed (see `NewSubjectWrites`):
   * on SQLite throws when the database's file was removed or replaced, as the write then went to
   * a file that is gone.
   */
  async checkFile(): Promise<void> {
    await this.file?.check(this.knex);
  }

  /**
   * Once a write of these subjects has settled (failed ones too: a failed commit may have
   * committed after all): tells the trackers of this process that share the Knex instance.
   */
  settle<T>(written: Promise<T>, pseudonyms: readonly string[]): Promise<T> {
    if (!this.sqlite) return written;
    const tell = () => { announceLocally(this.knex, pseudonyms); };
    return written.then(
      (value) => { tell(); return value; },
      (error: unknown) => { tell(); throw error; },
    );
  }

  /**
   * SQLite: notes which file the database is, when the tracker starts (with the feed on or off):
   * noted at the first write instead, a file replaced before it would be taken for the database.
   */
  async identifyFile(): Promise<void> {
    await this.file?.identify();
  }

  /** SQLite: the file the database was opened from (as noted at start), or null (none, or not SQLite). */
  async openedFile(): Promise<OpenedFile | null> {
    return (await this.file?.identify()) ?? null;
  }

  /** Starts watching; resolves to the function that stops, or null when the feed is off. */
  async subscribe(handlers: ChangeHandlers): Promise<(() => Promise<void>) | null> {
    if (this.postgres) {
      return listen(this.knex, this.channel, {
        onMessage: (pseudonym) => { handlers.onChange(pseudonym); },
        onReset: () => { handlers.onReset(); },
        onSynced: () => { handlers.onSynced(); },
        onError: (error) => { handlers.onError(error); },
      });
    }
    if (!this.sqlite) return null;
    const watch = new SqliteWatch(this.knex, handlers);
    await watch.begin();
    return () => watch.close();
  }
}

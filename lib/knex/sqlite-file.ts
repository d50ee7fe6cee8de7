import { statSync } from 'node:fs';
import type { Knex } from 'knex';

/** The file an SQLite database was opened from: its path and identity (device and inode). */
export interface OpenedFile {
  path: string;
  dev: number;
  ino: number;
}

/**
 * Refuses writes to an SQLite database whose file was removed or replaced while the process had
 * it open. In WAL mode (the default's) SQLite goes on writing to the unlinked file and
 * acknowledges every commit, all lost when the process ends: the file is taken to be what the
 * first check found (`PRAGMA database_list`), and each writing transaction checks, before it
 * commits, that its path still names that file. In-memory and temporary databases have none.
 */
export class SqliteFile {
  private opened: Promise<OpenedFile | null> | null = null;

  constructor(private readonly knex: Knex) {}

  /** Notes which file the database is, once (at start, or at the first write); asked again after a failure. */
  identify(on: Knex | Knex.Transaction = this.knex): Promise<OpenedFile | null> {
    this.opened ??= this.read(on).catch((error: unknown) => {
      this.opened = null;
      throw error;
    });
    return this.opened;
  }

  /** Whether the database's path still names the file it was opened from (false for none). */
  static stillAt(opened: OpenedFile): boolean {
    const now = statSync(opened.path, { throwIfNoEntry: false });
    return now !== undefined && now.dev === opened.dev && now.ino === opened.ino;
  }

  /** Inside a writing transaction (or once a script committed): throws when the database's path no longer names its file. */
  async check(on: Knex | Knex.Transaction): Promise<void> {
    const opened = await this.identify(on);
    if (opened === null) return;
    const now = statSync(opened.path, { throwIfNoEntry: false });
    if (now === undefined || now.dev !== opened.dev || now.ino !== opened.ino) {
      throw new Error(
        `the SQLite database file ${opened.path} was ${now === undefined ? 'removed' : 'replaced'} while this process had it open: ` +
          'writes are refused, as they would be lost; restart the process',
      );
    }
  }

  private async read(on: Knex | Knex.Transaction): Promise<OpenedFile | null> {
    const rows: Array<{ name: string; file: string }> = await on.raw('PRAGMA database_list');
    const path = rows.find((row) => row.name === 'main')?.file ?? '';
    if (path === '') return null;
    const stats = statSync(path);
    return { path, dev: stats.dev, ino: stats.ino };
  }
}

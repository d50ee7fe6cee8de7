import { closeSync, openSync } from 'node:fs';
import knexFactory, { type Knex } from 'knex';
import { ConsentConfigError } from '../errors';

// Erased personal data must not stay readable on free pages or in the unused part of a page:
// with secure_delete SQLite overwrites deleted content with zeros (freed overflow pages too)
// instead of leaving it until the space is reused.
export const ERASURE_PRAGMAS = ['secure_delete = ON'] as const;

// An acknowledged decision must survive a power cut: every commit syncs the WAL. Set
// explicitly, after the journal mode, because the drivers' builds disagree on the WAL default
// (`sqlite3` FULL, `better-sqlite3` NORMAL, which may lose the last commits on power loss).
export const DURABILITY_PRAGMAS = ['synchronous = FULL'] as const;

// Another process holding the file (the application, a command) makes a statement wait for
// it this long instead of failing at once.
export const WAIT_PRAGMAS = ['busy_timeout = 5000'] as const;

// Applied to the connection in order: first a busy timeout, so that another process holding the
// file makes us wait instead of fail (the journal mode and `synchronous` read the file, and would
// otherwise fail after the driver's own second); WAL journal so readers do not wait for the
// writer; durable commits; memory sized for a small app and bounded whatever the size of the history: an 8 MiB
// page cache (SQLite's own default is 2 MiB; it holds the upper levels of every index, which
// every lookup walks) and the first 64 MiB of the file read through a memory map instead of a
// read() call per page (mapped pages count as resident memory once touched, up to the whole
// map); and the erasure pragmas.
export const DEFAULT_PRAGMAS = [
  ...WAIT_PRAGMAS,
  'journal_mode = WAL',
  ...DURABILITY_PRAGMAS,
  'cache_size = -8192',
  'mmap_size = 67108864',
  ...ERASURE_PRAGMAS,
] as const;

type Sqlite3Connection = { run(sql: string, cb: (err: Error | null) => void): void };
type BetterSqlite3Connection = { pragma(sql: string): unknown };
type AfterCreate = (conn: unknown, done: (err: Error | null, conn: unknown) => void) => void;

/**
 * A Knex pool `afterCreate` hook running `PRAGMA <p>` for each of `pragmas` on every new
 * connection of the `sqlite3` (callback) or `better-sqlite3` (synchronous) driver.
 */
export function sqlitePragmaHook(client: 'sqlite3' | 'better-sqlite3', pragmas: readonly string[]): AfterCreate {
  if (client === 'better-sqlite3') {
    return (conn, done) => {
      try {
        for (const pragma of pragmas) (conn as BetterSqlite3Connection).pragma(pragma);
        done(null, conn);
      } catch (error) {
        done(error as Error, conn);
      }
    };
  }
  return (conn, done) => {
    const next = (i: number): void => {
      if (i === pragmas.length) { done(null, conn); return; }
      (conn as Sqlite3Connection).run(`PRAGMA ${String(pragmas[i])}`, (err) => {
        if (err) done(err, conn);
        else next(i + 1);
      });
    };
    next(0);
  };
}

/**
 * Creates `filename` empty, readable and writable by its owner only, when no file is there: the
 * database holds pseudonyms, encrypted subject ids and network details, which other accounts of
 * the machine have no business reading (SQLite gives its WAL and shared-memory files the same
 * permissions). An existing file keeps its own; anything that fails here (a missing directory)
 * is left for the driver to report when it opens the file.
 */
export function createPrivateFile(filename: string): void {
  if (filename === '' || filename === ':memory:' || filename.startsWith('file:')) return;
  try {
    closeSync(openSync(filename, 'wx', 0o600));
  } catch {
    // there already, or not creatable: the driver opens it or says why not
  }
}

/** The embedded default: an SQLite file through the `sqlite3` driver, one connection (SQLite has one writer). */
export function defaultKnex(filename: string): Knex {
  createPrivateFile(filename);
  try {
    return knexFactory({
      client: 'sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      pool: { min: 1, max: 1, afterCreate: sqlitePragmaHook('sqlite3', DEFAULT_PRAGMAS) },
    });
  } catch (error) {
    throw new ConsentConfigError(
      'invalid_option',
      'the default storage is an SQLite file through the "sqlite3" package, which is not installed: ' +
        'run "npm install sqlite3", or pass a "knex" instance of your own',
      { cause: error },
    );
  }
}

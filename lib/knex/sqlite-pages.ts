import type { Knex } from 'knex';
import { clientOf, isSqlite } from './migrate';
import { PageReader } from './page-reader';
import { SqliteFile, type OpenedFile } from './sqlite-file';
import type { PageRunner } from './page-runner';
import { loadedFrom, pageThreads, ThreadPages } from './thread-pages';

/** The part of the `sqlite3` package's API used here. */
interface Sqlite3Module {
  OPEN_READONLY: number;
  Database: new (filename: string, mode: number, done: (error: Error | null) => void) => Sqlite3Database;
}
interface Sqlite3Database {
  configure(option: 'busyTimeout', ms: number): void;
  exec(sql: string, done: (error: Error | null) => void): void;
  prepare(sql: string, done: (error: Error | null) => void): Sqlite3Statement;
  close(done: (error: Error | null) => void): void;
}
interface Sqlite3Statement {
  all(bindings: readonly unknown[], done: (error: Error | null, rows?: Array<Record<string, unknown>>) => void): void;
  finalize(done: () => void): void;
}

/**
 * A reader's settings: read-only, the page cache of the application's connection (see
 * `DEFAULT_PRAGMAS`), and a memory map of up to 1 GiB of the file where the application maps
 * 64 MiB. Readers open only for scans of a large store (`pageReaders.minRows`) and close when
 * idle; a scan, or a long list's lookups, reads pages all over the file, each a system call
 * and a copy out of the operating system's file cache without the map. The mapped pages are
 * that same file cache: they count as the process's resident memory while the reader is open.
 */
export const READER_PRAGMAS = ['query_only = 1', 'cache_size = -8192', 'mmap_size = 1073741824'] as const;

// Connections of `sqlite3`: one statement runs at a time on each, on the driver's threads;
// two let a page of events and a page of heads be read at once.
const CONNECTIONS = 2;

// Prepared statements kept per connection: a scan sends the same few statements page after page.
const STATEMENTS = 16;

/**
 * A connection's prepared statements by text. The driver prepares an unprepared statement on
 * its thread and only starts it from the main thread's next turn, so that a page asked for
 * while the main thread checks the one before would wait for that check: a prepared one
 * starts at once. Run to its end (`all`), a statement holds no read transaction between pages.
 */
class Prepared {
  private readonly statements = new Map<string, Promise<Sqlite3Statement>>();

  constructor(private readonly db: Sqlite3Database) {}

  /** The statement of `sql`, prepared once (the oldest is let go past `STATEMENTS`). */
  statement(sql: string): Promise<Sqlite3Statement> {
    let found = this.statements.get(sql);
    if (found === undefined) {
      if (this.statements.size >= STATEMENTS) {
        const [oldest, statement] = this.statements.entries().next().value as [string, Promise<Sqlite3Statement>];
        this.statements.delete(oldest);
        void statement.then(finalize, () => undefined);
      }
      found = new Promise<Sqlite3Statement>((resolve, reject) => {
        const statement = this.db.prepare(sql, (error) => {
          if (error) reject(error);
          else resolve(statement);
        });
      });
      // A statement that did not prepare is prepared again next time (and its failure is the caller's).
      const prepared = found;
      found.catch(() => { if (this.statements.get(sql) === prepared) this.statements.delete(sql); });
      this.statements.set(sql, found);
    }
    return found;
  }

  /** Finalizes every statement (a connection closes only once none is left). */
  async close(): Promise<void> {
    const statements = [...this.statements.values()];
    this.statements.clear();
    await Promise.all(statements.map((s) => s.then(finalize, () => undefined)));
  }
}

const finalize = (statement: Sqlite3Statement): Promise<void> => new Promise((resolve) => { statement.finalize(() => { resolve(); }); });

/** Read-only connections through the `sqlite3` driver the application's Knex loaded. */
class ConnectionPages implements PageRunner {
  private readonly busy: number[];
  private readonly connections: Prepared[];
  alive = true;

  private constructor(private readonly dbs: Sqlite3Database[]) {
    this.busy = dbs.map(() => 0);
    this.connections = dbs.map((db) => new Prepared(db));
  }

  static async open(driver: Sqlite3Module, filename: string): Promise<ConnectionPages> {
    const dbs: Sqlite3Database[] = [];
    try {
      for (let i = 0; i < CONNECTIONS; i += 1) {
        dbs.push(await new Promise<Sqlite3Database>((resolve, reject) => {
          const db = new driver.Database(filename, driver.OPEN_READONLY, (error) => {
            if (error) reject(error);
            else resolve(db);
          });
        }));
      }
      for (const db of dbs) db.configure('busyTimeout', 5000);
      await Promise.all(dbs.map((db) => new Promise<void>((resolve, reject) => {
        db.exec(READER_PRAGMAS.map((p) => `PRAGMA ${p};`).join(' '), (error) => {
          if (error) reject(error);
          else resolve();
        });
      })));
    } catch (error) {
      await Promise.all(dbs.map(closeConnection));
      throw error;
    }
    return new ConnectionPages(dbs);
  }

  async page(sql: string, bindings: readonly unknown[]): Promise<unknown> {
    if (!this.alive) throw new Error('closed');
    const at = this.busy.indexOf(Math.min(...this.busy));
    this.busy[at] = (this.busy[at] as number) + 1;
    try {
      const statement = await (this.connections[at] as Prepared).statement(sql);
      const rows = await new Promise<Array<Record<string, unknown>> | undefined>((resolve, reject) => {
        statement.all(bindings, (error, found) => {
          if (error) reject(error);
          else resolve(found);
        });
      });
      const row = rows?.[0];
      return row === undefined ? undefined : Object.values(row)[0];
    } finally {
      this.busy[at] = this.busy[at] - 1;
    }
  }

  async close(): Promise<void> {
    this.alive = false;
    await Promise.all(this.connections.map((c) => c.close()));
    await Promise.all(this.dbs.map(closeConnection));
  }
}

const closeConnection = (db: Sqlite3Database): Promise<void> => new Promise((resolve) => { db.close(() => { resolve(); }); });

/**
 * Read-only connections to the SQLite file of `knex` (through the same driver), or null: an
 * in-memory or temporary database, another database, a driver this does not know, or a path
 * that no longer names the file the application opened (a restore moved into place: the
 * readers would read another store than every other read).
 */
export async function openSqlitePages(knex: Knex, openedFile: () => Promise<OpenedFile | null>): Promise<PageRunner | null> {
  const client = clientOf(knex);
  if (client.dialect !== 'sqlite3') return null;
  const opened = await openedFile();
  if (opened === null || !SqliteFile.stillAt(opened)) return null;
  const runner = await openRunner(knex, opened.path);
  // Checked again once open: a file moved into place meanwhile is not read either.
  if (runner !== null && !SqliteFile.stillAt(opened)) {
    await runner.close();
    return null;
  }
  return runner;
}

async function openRunner(knex: Knex, filename: string): Promise<PageRunner | null> {
  const client = clientOf(knex);
  const driver = (knex.client as { driver?: unknown }).driver;
  if (client.driverName === 'sqlite3') return ConnectionPages.open(driver as Sqlite3Module, filename);
  if (client.driverName !== 'better-sqlite3' || pageThreads.script === null) return null;
  // A driver told to load SQLite from elsewhere: the thread loads it from there too, or has no reader.
  const { nativeBinding } = ((knex.client as { connectionSettings?: { options?: { nativeBinding?: unknown } } }).connectionSettings?.options ?? {});
  if (nativeBinding !== undefined && typeof nativeBinding !== 'string') return null;
  const path = loadedFrom(driver);
  return path === null ? null : ThreadPages.start(pageThreads.script, { driver: path, filename, nativeBinding, pragmas: READER_PRAGMAS });
}

/** The reader of a tracker's store-wide scans on SQLite (none on another database). */
export function storeScanReader(knex: Knex, openedFile: () => Promise<OpenedFile | null>): PageReader | undefined {
  return isSqlite(knex) ? new PageReader(() => openSqlitePages(knex, openedFile)) : undefined;
}

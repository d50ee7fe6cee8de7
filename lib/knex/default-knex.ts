import knexFactory, { type Knex } from 'knex';
import { ConsentConfigError } from '../errors';

// Applied to the connection in order: WAL journal so readers do not wait for the writer; a
// busy timeout so another process holding the file makes us wait instead of fail; 64 MiB of
// page cache instead of SQLite's 2 MiB, so index pages of a history of millions of events stay
// in memory for lookups and bulk imports; and up to 1 GiB of the file read through memory
// mapping instead of a read() call per page, which verification and exports (reading every
// event) feel most. Writes still go through the journal.
export const DEFAULT_PRAGMAS = [
  'journal_mode = WAL',
  'busy_timeout = 5000',
  'cache_size = -65536',
  'mmap_size = 1073741824',
] as const;

type RawConnection = { run(sql: string, cb: (err: Error | null) => void): void };

/** The embedded default: an SQLite file through the `sqlite3` driver, one connection (SQLite has one writer). */
export function defaultKnex(filename: string): Knex {
  try {
    return knexFactory({
      client: 'sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: RawConnection, done: (err: Error | null, conn: unknown) => void) {
          const next = (i: number): void => {
            if (i === DEFAULT_PRAGMAS.length) return done(null, conn);
            conn.run(`PRAGMA ${DEFAULT_PRAGMAS[i]}`, (err) => (err ? done(err, conn) : next(i + 1)));
          };
          next(0);
        },
      },
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

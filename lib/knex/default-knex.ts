import knexFactory, { type Knex } from 'knex';
import { ConsentConfigError } from '../errors';

/**
 * The embedded default: an SQLite file through the `sqlite3` driver, one connection (SQLite
 * has one writer), WAL journal so readers do not wait for the writer, a busy timeout so
 * another process holding the file makes us wait instead of fail, and a 64 MiB page cache.
 */
export function defaultKnex(filename: string): Knex {
  try {
    return knexFactory({
      client: 'sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
          conn.run('PRAGMA journal_mode = WAL', (err) => {
            if (err) return done(err, conn);
            conn.run('PRAGMA busy_timeout = 5000', (err2) => {
              if (err2) return done(err2, conn);
              // 64 MiB of page cache instead of SQLite's 2 MiB: index pages of a history of
              // millions of events stay in memory for lookups and bulk imports.
              conn.run('PRAGMA cache_size = -65536', (err3) => done(err3, conn));
            });
          });
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

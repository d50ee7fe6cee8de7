import knexFactory, { type Knex } from 'knex';
import { ConsentConfigError } from '../errors';

/**
 * The embedded default: an SQLite file through the `sqlite3` driver, one connection (SQLite
 * has one writer), WAL journal so readers do not wait for the writer, and a busy timeout so
 * another process holding the file makes us wait instead of fail.
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
            conn.run('PRAGMA busy_timeout = 5000', (err2) => done(err2, conn));
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

import knexFactory, { type Knex } from 'knex';
import { createPgDatabase, describePg, pgKnexConfig, sqliteKnexConfig, tempSqliteFile } from './databases';

/** A fresh, empty database and a function releasing it. */
export interface TestDatabase {
  knex: Knex;
  release(): Promise<void>;
}

/**
 * Declares `body` once on a fresh SQLite file per call of `open`, and once on PostgreSQL; with
 * `betterSqlite`, once more on an SQLite file through the synchronous `better-sqlite3` driver.
 */
export function describeEachDatabase(title: string, body: (open: () => Promise<TestDatabase>) => void, options: { betterSqlite?: boolean } = {}): void {
  const sqlite = (client: 'sqlite3' | 'better-sqlite3') => async (): Promise<TestDatabase> => {
    const file = tempSqliteFile();
    const knex = knexFactory({ ...sqliteKnexConfig(file.filename), client });
    return {
      knex,
      async release() {
        await knex.destroy();
        file.remove();
      },
    };
  };
  describe(`${title} (SQLite)`, () => {
    body(sqlite('sqlite3'));
  });
  if (options.betterSqlite) {
    describe(`${title} (SQLite, better-sqlite3)`, () => {
      body(sqlite('better-sqlite3'));
    });
  }
  describePg(`${title} (PostgreSQL)`, () => {
    body(async () => {
      const database = await createPgDatabase();
      const knex = knexFactory(pgKnexConfig(database.url));
      return {
        knex,
        async release() {
          await knex.destroy();
          await database.drop();
        },
      };
    });
  });
}

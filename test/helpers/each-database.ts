import knexFactory, { type Knex } from 'knex';
import { createPgDatabase, describePg, pgKnexConfig, sqliteKnexConfig, tempSqliteFile } from './databases';

/** A fresh, empty database and a function releasing it. */
export interface TestDatabase {
  knex: Knex;
  release(): Promise<void>;
}

/** Declares `body` once on a fresh SQLite file per call of `open`, and once on PostgreSQL. */
export function describeEachDatabase(title: string, body: (open: () => Promise<TestDatabase>) => void): void {
  describe(`${title} (SQLite)`, () => {
    body(async () => {
      const file = tempSqliteFile();
      const knex = knexFactory(sqliteKnexConfig(file.filename));
      return {
        knex,
        async release() {
          await knex.destroy();
          file.remove();
        },
      };
    });
  });
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

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import { buildPackage } from './build';
import { createPgDatabase, describePg, pgKnexConfig, sqliteKnexConfig, tempSqliteFile } from './databases';

/** The built command line, as the package's `bin` names it. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** A secret for tests (32 bytes). */
export const SECRET = 'cli-test-secret-0123456789abcdef';

/** Builds the package once per test run (the real `dist/cli.js`, shebang included). */
export const buildCli = buildPackage;

/** What one run of the command line did. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built binary itself (through its shebang), with `CONSENT_SECRET` unless `env` overrides it. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      CLI,
      args,
      { env: { ...process.env, CONSENT_SECRET: SECRET, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        const exit = (error as { code?: unknown } | null)?.code;
        const code = error ? (typeof exit === 'number' ? exit : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A fresh database with the URL the command line takes and a Knex for the test's own reads. */
export interface CliDatabase {
  url: string;
  knex: Knex;
  release(): Promise<void>;
}

/** Declares `body` on a fresh SQLite file per `open()`, and on PostgreSQL when configured. */
export function describeEachCliDatabase(title: string, body: (open: () => Promise<CliDatabase>) => void): void {
  describe(`${title} (SQLite)`, () => {
    body(async () => {
      const file = tempSqliteFile();
      const knex = knexFactory(sqliteKnexConfig(file.filename));
      return {
        url: `sqlite:${file.filename}`,
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
        url: database.url,
        knex,
        async release() {
          await knex.destroy();
          await database.drop();
        },
      };
    });
  });
}

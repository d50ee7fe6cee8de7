import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { describeSkipped } from './skip';

/** The slice of the `pg` package used here. */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

// `pg` ships no type declarations and @types/pg is not a dev dependency, so it is loaded
// through require with the small typed surface above instead of an untyped default import.
const pg = createRequire(import.meta.url)('pg') as { Client: new (config: { connectionString: string }) => PgClient };

/**
 * `describe(title, fn)` when `available`. Otherwise the suite is skipped with `reason`, which
 * the reporter prints, except under CI=true, where a missing dependency must fail the run at
 * load time instead of quietly skipping tests.
 */
export function describeIfAvailable(available: boolean, reason: string, ciError: string, title: string, fn: () => void): void {
  if (available) {
    describe(title, fn);
    return;
  }
  if (process.env.CI === 'true') throw new Error(ciError);
  describeSkipped(title, reason, fn);
}

/** Whether a PostgreSQL server for tests is configured (`CONSENT_TEST_PG_URL`). */
export function pgAvailable(): boolean {
  return Boolean(process.env.CONSENT_TEST_PG_URL);
}

/**
 * A suite that needs PostgreSQL: skipped without `CONSENT_TEST_PG_URL`, an error under CI.
 * With `CONSENT_TEST_SQLITE_ONLY=1` it is left out (not skipped): .ci/run's second pass, on
 * Express 4, is about Express, and every PostgreSQL suite ran in its first pass.
 */
export function describePg(title: string, fn: () => void): void {
  if (process.env.CONSENT_TEST_SQLITE_ONLY === '1') return;
  describeIfAvailable(
    pgAvailable(),
    'no PostgreSQL: set CONSENT_TEST_PG_URL',
    'CONSENT_TEST_PG_URL must be set under CI',
    title,
    fn,
  );
}

/** The Chromium binary for browser tests (`CHROMIUM_PATH`, else /usr/bin/chromium), or null. */
export function chromiumPath(): string | null {
  const candidate = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  return existsSync(candidate) ? candidate : null;
}

/** A suite that needs Chromium: skipped when it is missing, an error under CI. */
export function describeBrowser(title: string, fn: () => void): void {
  describeIfAvailable(
    chromiumPath() !== null,
    'no Chromium: install chromium or set CHROMIUM_PATH',
    'Chromium must be installed under CI (/usr/bin/chromium or CHROMIUM_PATH)',
    title,
    fn,
  );
}

async function withAdminClient<T>(work: (client: PgClient) => Promise<T>): Promise<T> {
  const base = process.env.CONSENT_TEST_PG_URL;
  if (!base) throw new Error('CONSENT_TEST_PG_URL is not set');
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, empty PostgreSQL database on the `CONSENT_TEST_PG_URL` server: its URL, and `drop()`,
 * which disconnects whatever is still using it (pools a failed test did not destroy) and drops it.
 */
export async function createPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ec_test_${randomBytes(8).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(process.env.CONSENT_TEST_PG_URL as string);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      withAdminClient(async (client) => {
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        // WITH (FORCE) (PostgreSQL 13+) also covers a client reconnecting between the two steps.
        const { rows } = await client.query("SELECT current_setting('server_version_num')::int AS version");
        const force = Number(rows[0]?.version) >= 130000 ? ' WITH (FORCE)' : '';
        await client.query(`DROP DATABASE IF EXISTS "${name}"${force}`);
      }),
  };
}

/** Knex configuration for a PostgreSQL database URL. */
export function pgKnexConfig(url: string): Knex.Config {
  return { client: 'pg', connection: url, pool: { min: 0, max: 10 } };
}

/**
 * A path for a new SQLite file inside a new temporary directory, and `cleanup()` removing the
 * directory with everything in it (journal and WAL files too). `remove` is the same function.
 */
export function tempSqliteFile(): { filename: string; cleanup: () => void; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'express-consent-'));
  const cleanup = (): void => { rmSync(dir, { recursive: true, force: true }); };
  return { filename: join(dir, 'consent.sqlite3'), cleanup, remove: cleanup };
}

/** Knex configuration for an SQLite file (knex's sqlite3 client keeps a single connection). */
export function sqliteKnexConfig(filename: string): Knex.Config {
  return { client: 'sqlite3', connection: { filename }, useNullAsDefault: true };
}

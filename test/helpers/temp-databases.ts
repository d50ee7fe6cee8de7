import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory, { type Knex } from 'knex';

let counter = 0;

/** A path for a fresh SQLite file, and a function removing it. */
export function tempSqliteFile(): { filename: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'consent-test-'));
  return { filename: join(dir, 'consent.sqlite3'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sqliteKnexConfig(filename: string): Knex.Config {
  return { client: 'sqlite3', connection: { filename }, useNullAsDefault: true, pool: { min: 1, max: 1 } };
}

export const PG_URL = process.env.CONSENT_TEST_PG_URL;

/** `describe` when a PostgreSQL server is configured, else a skipped suite. */
export const describePg = PG_URL ? describe : describe.skip;

/** A fresh PostgreSQL database and a function dropping it. */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = knexFactory({ client: 'pg', connection: PG_URL, pool: { min: 0, max: 1 } });
  const name = `consent_test_${process.pid}_${Date.now()}_${(counter += 1)}`;
  try {
    await admin.raw(`create database ${name}`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(PG_URL as string);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = knexFactory({ client: 'pg', connection: PG_URL, pool: { min: 0, max: 1 } });
      try {
        await again.raw(`drop database if exists ${name} with (force)`);
      } finally {
        await again.destroy();
      }
    },
  };
}

export function pgKnexConfig(url: string): Knex.Config {
  return { client: 'pg', connection: url, pool: { min: 0, max: 10 } };
}

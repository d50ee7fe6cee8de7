import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';

const warned = new Set<string>();

/** `describe` when `available`; otherwise skipped with a visible reason, or a failure under CI. */
function describeWhen(available: boolean, what: string, hint: string, title: string, fn: () => void): void {
  if (available) {
    describe(title, fn);
    return;
  }
  if (process.env.CI === 'true') throw new Error(`${what} is required under CI=true: ${hint}`);
  if (!warned.has(what)) {
    warned.add(what);
    console.warn(`\n  [express-consent tests] ${what} not available (${hint}): its tests are skipped.\n`);
  }
  describe.skip(`[skipped: no ${what}] ${title}`, fn);
}

export function pgAvailable(): boolean {
  return Boolean(process.env.CONSENT_TEST_PG_URL);
}

/** A suite that needs PostgreSQL (`CONSENT_TEST_PG_URL`). */
export function describePg(title: string, fn: () => void): void {
  describeWhen(pgAvailable(), 'PostgreSQL', 'set CONSENT_TEST_PG_URL', title, fn);
}

/** The Chromium binary for browser tests, if there is one. */
export function chromiumPath(): string | null {
  const candidate = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return existsSync(candidate) ? candidate : null;
}

/** A suite that needs Chromium. */
export function describeBrowser(title: string, fn: () => void): void {
  describeWhen(chromiumPath() !== null, 'Chromium', 'apt-get install chromium, or set CHROMIUM_PATH', title, fn);
}

/** A fresh PostgreSQL database on the test server, and a function dropping it. */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.CONSENT_TEST_PG_URL;
  if (!base) throw new Error('CONSENT_TEST_PG_URL is not set');
  const name = `ec_test_${randomBytes(6).toString('hex')}`;
  const admin = () => knexFactory({ client: 'pg', connection: base, pool: { min: 0, max: 1 } });
  const creator = admin();
  try {
    await creator.raw(`create database ${name}`);
  } finally {
    await creator.destroy();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = admin();
      try {
        await dropper.raw(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.destroy();
      }
    },
  };
}

export function pgKnexConfig(url: string): Knex.Config {
  return { client: 'pg', connection: url, pool: { min: 0, max: 10 } };
}

/** A path for a fresh SQLite file in a fresh directory, and a function removing both. */
export function tempSqliteFile(): { filename: string; cleanup(): void; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'express-consent-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  return { filename: join(dir, 'consent.sqlite3'), cleanup, remove: cleanup };
}

export function sqliteKnexConfig(filename: string): Knex.Config {
  return { client: 'sqlite3', connection: { filename }, useNullAsDefault: true, pool: { min: 1, max: 1 } };
}

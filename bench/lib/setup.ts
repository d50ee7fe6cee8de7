import { createRequire } from 'node:module';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent, type ConsentOptions, type RequirementDefinition } from '../../lib/index';
import { DEFAULT_PRAGMAS, defaultKnex, sqlitePragmaHook } from '../../lib/knex/default-knex';

export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret-01';

export const REQUIREMENTS: RequirementDefinition[] = [
  { id: 'analytics', title: 'Usage analytics', description: 'Which pages you open.', expiresAfterDays: 365 },
  { id: 'ads', title: 'Personalised ads', description: 'Ads based on what you read.' },
  { id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.' },
  { id: 'partners', title: 'Partners', description: 'Share data with partners.' },
];

/**
 * Where a bench runs: an SQLite file (the embedded default's settings, through the default
 * `sqlite3` driver or through `better-sqlite3`) or a PostgreSQL URL.
 */
export type Target = { kind: 'sqlite'; filename: string; driver?: SqliteDriver } | { kind: 'pg'; url: string };

export type SqliteDriver = 'sqlite3' | 'better-sqlite3';

export function openKnex(target: Target): Knex {
  if (target.kind === 'pg') return knexFactory({ client: 'pg', connection: target.url, pool: { min: 2, max: 10 } });
  if (target.driver !== 'better-sqlite3') return defaultKnex(target.filename);
  // The same settings as the embedded default, through the synchronous driver.
  return knexFactory({
    client: 'better-sqlite3',
    connection: { filename: target.filename },
    useNullAsDefault: true,
    pool: { min: 1, max: 1, afterCreate: sqlitePragmaHook('better-sqlite3', DEFAULT_PRAGMAS) },
  });
}

/** Whether the optional `better-sqlite3` driver is installed. */
export function hasBetterSqlite(): boolean {
  try {
    createRequire(import.meta.url).resolve('better-sqlite3');
    return true;
  } catch {
    return false;
  }
}

/** The SQLite drivers to bench: the default, and `better-sqlite3` when it is installed. */
export function sqliteDrivers(): Array<{ driver: SqliteDriver; label: string }> {
  const drivers: Array<{ driver: SqliteDriver; label: string }> = [{ driver: 'sqlite3', label: 'SQLite' }];
  if (hasBetterSqlite()) drivers.push({ driver: 'better-sqlite3', label: 'SQLite, better-sqlite3' });
  else console.log('\nbetter-sqlite3 is not installed: its rows are skipped (npm install better-sqlite3)\n');
  return drivers;
}

/** The benches' subject hook: the `x-user` header, resolved the same way by bare routes. */
export const headerSubject = (req: { headers: Record<string, unknown> }): string | undefined =>
  req.headers['x-user'] as string | undefined;

const quiet = { warn: () => undefined, error: (m: string, e?: unknown) => { console.error(m, e); } };

/** A ready consent instance on `knex` with the bench requirements. */
export async function benchConsent(knex: Knex, options: ConsentOptions = {}): Promise<Consent> {
  const consent = createConsent({ knex, secret: BENCH_SECRET, subject: headerSubject, logger: quiet, ...options });
  consent.register(REQUIREMENTS);
  await consent.ready();
  return consent;
}

/**
 * Decisions per `consent.import()` batch when the benches build their stores: the largest batch
 * `import()` takes, as a one-off migration would choose (fewer commits, each index page
 * written once for more rows).
 */
export const IMPORT_BATCH = 10_000;

/**
 * Decisions for `subjects` people: each grants every requirement once, so the store ends with
 * `subjects * REQUIREMENTS.length` events. Generated lazily: a million never sit in memory.
 */
export function* grants(subjects: number, prefix = 'u', at = Date.now() - 60_000): Generator<Record<string, unknown>> {
  for (let i = 0; i < subjects; i += 1) {
    for (const r of REQUIREMENTS) yield { subjectId: `${prefix}${String(i)}`, requirement: r.id, decision: 'granted', at };
  }
}

import knexFactory, { type Knex } from 'knex';
import { ConsentConfigError } from '../errors';
import { checkedTablePrefix } from './table-prefix';
import { ConsentMigrationSource, MIGRATION_NAMES } from './migrations/index';

/** Options of `migrate()`. */
export interface MigrateOptions {
  /** @default 'consent_' */
  tablePrefix?: string | undefined;
}

/** The key of the advisory lock `migrate()` holds on PostgreSQL: arbitrary, fixed, 64-bit. */
export const ADVISORY_KEY = '7310583947120934123';
const LOCK_WAIT_MS = 60_000;

function config(prefix: string): Knex.MigratorConfig {
  return {
    migrationSource: new ConsentMigrationSource(prefix),
    tableName: `${prefix}migrations`,
  };
}

/** The members of Knex's (untyped) `client` read here. */
interface KnexClient {
  config: Knex.Config;
  dialect?: string;
  driverName?: string;
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
  destroyRawConnection(connection: unknown): Promise<void>;
}

/** Knex's client, typed as far as it is used. */
export function clientOf(knex: Knex): KnexClient {
  return knex.client as KnexClient;
}

/** The client's name as configured (`pg`, `sqlite3`, …), or its dialect, or ''. */
export function clientName(knex: Knex): string {
  const { config, dialect } = clientOf(knex);
  return String(config.client ?? dialect ?? '');
}

export function isPostgres(knex: Knex): boolean {
  return /^(pg|postgres|postgresql)$/.test(clientName(knex)) || clientOf(knex).dialect === 'postgresql';
}

/** Whether the Knex instance talks to SQLite (through `sqlite3` or `better-sqlite3`). */
export function isSqlite(knex: Knex): boolean {
  return clientOf(knex).dialect === 'sqlite3';
}

/**
 * Whether queries run synchronously on the calling thread (`better-sqlite3`): a transaction
 * then never yields to the event loop while it runs.
 */
export function isSynchronousDriver(knex: Knex): boolean {
  return clientOf(knex).driverName === 'better-sqlite3';
}

async function appliedMigrations(knex: Knex, prefix: string): Promise<string[]> {
  const table = `${prefix}migrations`;
  if (!(await knex.schema.hasTable(table))) return [];
  const rows: Array<{ name: string }> = await knex(table).select('name');
  return rows.map((row) => row.name);
}

/** Refuses a database migrated by a newer release of the library. */
async function assertNotNewer(knex: Knex, prefix: string): Promise<string[]> {
  const applied = await appliedMigrations(knex, prefix);
  const unknown = applied.filter((name) => !MIGRATION_NAMES.includes(name));
  if (unknown.length > 0) {
    throw new ConsentConfigError(
      'schema_mismatch',
      `the database was migrated by a newer express-consent (unknown migrations: ${unknown.join(', ')}); ` +
        'upgrade the library in this process',
      { extensions: { migrations: unknown } },
    );
  }
  return applied;
}

/**
 * Ends the lock's transaction. A connection on which that fails is closed rather than pooled,
 * so that no transaction (and no lock) can stay open on it.
 */
async function endTransaction(locker: Knex, connection: unknown, statement: 'commit' | 'rollback'): Promise<void> {
  try {
    await locker.raw(statement).connection(connection);
  } catch (error) {
    (connection as { __knex__disposed?: unknown }).__knex__disposed = error;
    await clientOf(locker).destroyRawConnection(connection).catch(() => undefined);
  }
}

/**
 * Holds a PostgreSQL advisory lock while `fn` runs, so that several processes migrating at once
 * wait for each other (Knex's own lock throws instead of waiting). The lock belongs to a
 * transaction left open on a connection of its own: a pooler in transaction mode keeps a
 * transaction on one server connection, and PostgreSQL ends it (freeing the lock) when its client
 * goes. A session-level lock could be taken on one pooled server connection and released on
 * another. The migrations run on other connections, in transactions of their own.
 */
async function withAdvisoryLock<T>(knex: Knex, fn: () => Promise<T>): Promise<T> {
  if (!isPostgres(knex)) return fn();
  return oneAtATime(knex, () => lockedOnce(knex, fn));
}

// The calls of this process on one Knex take the lock one after the other: each waiter holds a
// pooled connection while it waits, so with as many waiters as the pool has connections (several
// instances with their own table prefix starting at once) the holder could get none to migrate with.
const queues = new WeakMap<Knex, Promise<unknown>>();

function oneAtATime<T>(knex: Knex, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(knex) ?? Promise.resolve()).then(fn);
  queues.set(knex, run.catch(() => undefined));
  return run;
}

async function lockedOnce<T>(knex: Knex, fn: () => Promise<T>): Promise<T> {
  const { config } = clientOf(knex);
  const poolMax = config.pool?.max ?? 10;
  // Holding the lock on the host's only connection would starve the migrator: lock through a
  // short-lived second pool instead.
  const locker = poolMax < 2 ? knexFactory({ ...config, pool: { min: 0, max: 1 } }) : knex;
  try {
    const client = clientOf(locker);
    const connection = await client.acquireConnection();
    try {
      let result: T;
      try {
        await locker.raw('begin').connection(connection);
        // The transaction is idle while the migrations run elsewhere: a server-wide
        // idle_in_transaction_session_timeout shorter than they take would end it and free the lock.
        await locker.raw('set local idle_in_transaction_session_timeout = 0').connection(connection);
        await locker.raw('select pg_advisory_xact_lock(?::bigint)', [ADVISORY_KEY]).connection(connection);
        result = await fn();
      } catch (error) {
        await endTransaction(locker, connection, 'rollback');
        throw error;
      }
      // The migrations are committed on their own connections by now: a commit that fails here
      // (the connection lost) has freed the lock all the same and takes nothing back.
      await endTransaction(locker, connection, 'commit');
      return result;
    } finally {
      await client.releaseConnection(connection);
    }
  } finally {
    if (locker !== knex) await locker.destroy();
  }
}

// What no wait mends (a read-only file or directory, a full disk), by SQLite's code or text:
// Knex reports it as a lock it could not take all the same.
const PERMANENT = /SQLITE_(?:READONLY|CANTOPEN|FULL|IOERR|CORRUPT|NOTADB|PERM|AUTH)|readonly database|unable to open database|disk is full|disk I\/O error|malformed|not a database/i;

function isLockContention(error: unknown): boolean {
  const e = error as { name?: string; message?: string } | null | undefined;
  const message = e?.message ?? '';
  if (PERMANENT.test(message)) return false;
  return e?.name === 'MigrationLocked' || /already exists|SQLITE_BUSY|database is locked/i.test(message);
}

/**
 * Knex creates its lock table and then, in a statement of its own, the table's one row when it
 * reads none: two processes migrating a new SQLite file at once could both insert one, and with
 * two rows Knex's lock (taken by setting exactly one row) could never be taken again. On SQLite
 * the table and its row are therefore made here by statements that cannot be done twice, and a
 * second row that such a race left behind is removed (it never holds the lock: on SQLite Knex
 * takes and frees it in the migrations' own transaction).
 */
async function oneLockRow(knex: Knex, prefix: string): Promise<void> {
  const table = `${prefix}migrations_lock`;
  await knex.raw('create table if not exists ?? (`index` integer not null primary key autoincrement, `is_locked` integer)', [table]);
  await knex.raw('insert into ?? (`index`, `is_locked`) select 1, 0 where not exists (select 1 from ??)', [table, table]);
  await knex.raw('delete from ?? where `index` > (select min(`index`) from ??)', [table, table]);
}

/**
 * Runs the shipped migrations (in their own `<prefix>migrations` table). Safe to run from
 * several processes at once and to run again (a no-op when current). Resolves to the names of
 * the migrations this call ran (none when the schema was current).
 *
 * @throws ConsentConfigError `schema_mismatch` when a newer release migrated the database.
 * @example await migrate(knex); // in a deploy step, before the app starts
 */
export async function migrate(knex: Knex, options: MigrateOptions = {}): Promise<string[]> {
  const prefix = checkedTablePrefix(options.tablePrefix, 'migrate()');
  const started = Date.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await withAdvisoryLock(knex, async () => {
        await assertNotNewer(knex, prefix);
        if (isSqlite(knex)) await oneLockRow(knex, prefix);
        // Knex resolves to [batch number, the names of the migrations this call ran].
        const [, ran] = (await knex.migrate.latest(config(prefix))) as [number, string[]];
        return ran;
      });
    } catch (error) {
      // Without an advisory lock (SQLite) another process may hold Knex's lock or be creating
      // the tables: wait and look again.
      if (!isLockContention(error) || Date.now() - started > LOCK_WAIT_MS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)));
    }
  }
}

/** With `autoMigrate: false`: refuses a schema that is behind or ahead of this release. */
export async function checkSchema(knex: Knex, prefix: string): Promise<void> {
  const applied = await assertNotNewer(knex, prefix);
  const missing = MIGRATION_NAMES.filter((name) => !applied.includes(name));
  if (missing.length > 0) {
    throw new ConsentConfigError(
      'schema_mismatch',
      `the database lacks migrations ${missing.join(', ')}: run migrate(knex) or enable autoMigrate`,
      { extensions: { migrations: missing } },
    );
  }
}

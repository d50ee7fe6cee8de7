import { existsSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createPrivateFile, DURABILITY_PRAGMAS, ERASURE_PRAGMAS, sqlitePragmaHook, WAIT_PRAGMAS } from '../knex/default-knex';
import { TABLE_PREFIX_RULE } from '../knex/table-prefix';
import { CliError, EXIT, usage } from './exit';

/** Connection options shared by every command. */
export interface ConnectionOptions {
  url?: string;
  client?: string;
  connection?: string;
  tablePrefix: string;
}

const PG_CLIENTS = new Set(['pg', 'postgres', 'postgresql']);

function sqliteConfig(filename: string, create: boolean, client: 'sqlite3' | 'better-sqlite3' = 'sqlite3'): Knex.Config {
  if (filename === '') throw usage('the connection names no SQLite file');
  // Said here, where the driver would only say it cannot open it; storage errors, as a missing file is.
  if (filename !== ':memory:' && existsSync(filename) && statSync(filename).isDirectory()) throw new CliError(`${filename} is a directory, not an SQLite database`, EXIT.storage);
  if (create && filename !== ':memory:') {
    // SQLite would create the file without the separator, readable by everyone.
    if (filename.endsWith(sep)) throw new CliError(`cannot create ${filename}: a path ending in "${sep}" names a directory`, EXIT.storage);
    // The nearest folder on its path that exists: a file there, or a folder missing below it, is said.
    const folder = dirname(resolve(filename));
    let existing = folder;
    while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
    if (!statSync(existing).isDirectory()) throw new CliError(`cannot create ${filename}: a part of its path is not a directory`, EXIT.storage);
    if (existing !== folder) throw new CliError(`cannot create ${filename}: no such directory`, EXIT.storage);
  }
  // Opening a missing file would create an empty database: only `migrate` may do that.
  if (!create && filename !== ':memory:' && !existsSync(filename)) {
    // `user:password@host/db` without its scheme reads as a file name: named without the password.
    const at = filename.lastIndexOf('@');
    if (at >= 0 && filename.slice(0, at).includes(':')) {
      throw new CliError(`no SQLite database at …${filename.slice(at)} (a postgres:// URL without its scheme?)`, EXIT.storage);
    }
    throw new CliError(`no SQLite database at ${filename}`, EXIT.storage);
  }
  if (create) createPrivateFile(filename);
  // `erase` must leave no recoverable bytes here either, and an import must survive a power
  // cut once it says it is done, whichever driver writes it. A write of the running application
  // is waited for as the application waits for others (the driver's own wait is 1 s).
  const pool = { min: 1, max: 1, afterCreate: sqlitePragmaHook(client, [...WAIT_PRAGMAS, ...DURABILITY_PRAGMAS, ...ERASURE_PRAGMAS]) };
  return { client, connection: { filename }, useNullAsDefault: true, pool };
}

function parseConnection(value: string): string | Record<string, unknown> {
  if (!value.trimStart().startsWith('{')) return value;
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch {
    throw usage('--connection is neither a connection string nor a JSON object');
  }
}

/**
 * The database URL in `CONSENT_DATABASE_URL`, when no option names a database: a password in
 * an argument is visible to every local user (`ps`), one in the environment is not.
 */
function withUrlFromEnvironment(options: ConnectionOptions): ConnectionOptions {
  const url = process.env.CONSENT_DATABASE_URL;
  if (options.url !== undefined || options.client !== undefined || options.connection !== undefined || !url) return options;
  return { ...options, url };
}

/**
 * The Knex configuration the options describe (or `CONSENT_DATABASE_URL`, when they name no
 * database). `create` allows a new SQLite file.
 */
export function knexConfig(given: ConnectionOptions, create = false): Knex.Config {
  const options = withUrlFromEnvironment(given);
  if (options.url !== undefined && (options.client !== undefined || options.connection !== undefined)) {
    throw usage('give either --url or --client with --connection, not both');
  }
  // Knex would also log connection failures itself; the command prints the one message.
  const quiet = () => {};
  const base = { acquireConnectionTimeout: 10_000, log: { warn: quiet, error: quiet, deprecate: quiet, debug: quiet } };
  if (options.url !== undefined) {
    if (/^postgres(ql)?:\/\//i.test(options.url)) return { ...base, client: 'pg', connection: postgresUrl(options.url), pool: { min: 0, max: 2 } };
    // Any scheme but sqlite:, with or without slashes (one letter is a Windows drive).
    if (/^[a-z][a-z0-9+.-]+:/i.test(options.url) && !/^sqlite:/i.test(options.url)) {
      // Named without what follows the scheme: it may hold a password.
      throw usage(`unsupported database URL scheme "${options.url.slice(0, options.url.indexOf(':'))}:" (postgres://… or sqlite:file)`);
    }
    const filename = options.url.replace(/^sqlite:(\/\/)?/i, '');
    if (filename === '') throw usage('the sqlite: URL names no file');
    return { ...base, ...sqliteConfig(filename, create) };
  }
  if (options.client === undefined || options.connection === undefined) {
    throw usage('no database: give --url (or CONSENT_DATABASE_URL), or --client with --connection');
  }
  const connection = parseConnection(options.connection);
  if (options.client === 'sqlite3' || options.client === 'better-sqlite3') {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- parsed from the command line: printed as given
    const filename = typeof connection === 'string' ? connection : String(connection.filename ?? '');
    return { ...base, ...sqliteConfig(filename, create, options.client) };
  }
  if (!PG_CLIENTS.has(options.client)) throw usage(`unsupported --client ${options.client} (pg or sqlite3)`);
  return { ...base, client: 'pg', connection, pool: { min: 0, max: 2 } } as Knex.Config;
}

/**
 * A PostgreSQL URL that parses as a URL. The driver reads one that does not (a port that is no
 * number from 0 to 65535, a space in the host) as if it named no port or host, and connects to
 * 5432 or the local socket instead: refused here, without what may hold a password.
 */
function postgresUrl(url: string): string {
  // The driver encodes spaces and stray `%` first, and takes `user@/db` as naming no host.
  const encoded = / |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(url) ? encodeURI(url).replace(/%25(\d\d)/g, '%$1') : url;
  if (!URL.canParse(encoded) && !URL.canParse(encoded.replace('@/', '@dummy/'))) throw usage('the postgres:// URL does not parse: check its host and port (a number from 0 to 65535), and percent-encode special characters in the user name and password');
  return url;
}

/** The SQLite file the options name (the path as given), or null for PostgreSQL and a database in memory. */
export function sqliteFileOf(options: ConnectionOptions): string | null {
  const config = knexConfig(options);
  const connection = config.connection as { filename?: unknown } | string | undefined;
  if (config.client === 'pg' || typeof connection !== 'object') return null;
  return typeof connection.filename === 'string' && connection.filename !== ':memory:' ? connection.filename : null;
}

/** Opens the database the options describe. */
export function openKnex(options: ConnectionOptions, create = false): Knex {
  if (!TABLE_PREFIX_RULE.test(options.tablePrefix)) throw usage('--table-prefix must match ^[a-z][a-z0-9_]{0,30}$');
  return knexFactory(knexConfig(options, create));
}

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIfAvailable, describePg, pgAvailable } from './databases';

/** The slice of the `pg` package used here (see databases.ts). */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

const pg = createRequire(import.meta.url)('pg') as { Client: new (config: { connectionString: string }) => PgClient };

/** The PgBouncer binary for pooler tests (`PGBOUNCER_PATH`, else /usr/sbin/pgbouncer), or null. */
export function pgbouncerPath(): string | null {
  const candidate = process.env.PGBOUNCER_PATH || '/usr/sbin/pgbouncer';
  return existsSync(candidate) ? candidate : null;
}

/**
 * A suite that needs PostgreSQL and PgBouncer: skipped when either is missing, an error under
 * CI, left out like every PostgreSQL suite with `CONSENT_TEST_SQLITE_ONLY=1` (see `describePg`).
 */
export function describePgBouncer(title: string, fn: (this: Mocha.Suite) => void): void {
  if (!pgAvailable() || process.env.CONSENT_TEST_SQLITE_ONLY === '1') {
    describePg(title, fn);
    return;
  }
  describeIfAvailable(
    pgbouncerPath() !== null,
    'no PgBouncer: install pgbouncer or set PGBOUNCER_PATH',
    'PgBouncer must be installed under CI (/usr/sbin/pgbouncer or PGBOUNCER_PATH)',
    title,
    fn,
  );
}

/** A running PgBouncer: `url(database)` connects to that database through it. */
export interface PgBouncer {
  pid: number;
  port: number;
  url(database: string): string;
  /** How many clients of `database` wait for a server connection (SHOW POOLS' cl_waiting). */
  waitingClients(database: string): Promise<number>;
  /** Stops it (SIGTERM to its pid, SIGKILL if it lingers) and removes its files. */
  stop(): Promise<void>;
  /** What it logged, for the message of a failed test. */
  log(): string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => { resolve(port); });
    });
    server.on('error', reject);
  });
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { resolve(false); }, ms);
    child.once('exit', () => { clearTimeout(timer); resolve(true); });
  });
}

// PgBouncer refuses to run as root; as root it is told to switch to the user the PostgreSQL
// packages create, which must then own its files.
function runAs(dir: string, files: string[]): string[] {
  if (process.getuid?.() !== 0) return [];
  const user = process.env.PGBOUNCER_USER || 'postgres';
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }));
  for (const path of [dir, ...files]) chownSync(path, uid, gid);
  return ['-u', user];
}

/**
 * Starts PgBouncer on a free loopback port in front of the `CONSENT_TEST_PG_URL` server, with
 * trust authentication, in `poolMode`, with `poolSize` server connections per database and user.
 * Resolves once it accepts connections.
 */
export async function startPgBouncer(options: { poolMode: 'transaction' | 'session'; poolSize: number }): Promise<PgBouncer> {
  const binary = pgbouncerPath();
  if (!binary) throw new Error('PgBouncer is not installed (/usr/sbin/pgbouncer or PGBOUNCER_PATH)');
  const server = new URL(process.env.CONSENT_TEST_PG_URL as string);
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'express-consent-pgbouncer-'));
  const config = join(dir, 'pgbouncer.ini');
  const users = join(dir, 'users.txt');
  writeFileSync(users, `"${user}" "${password}"\n`, { mode: 0o600 });
  writeFileSync(config, [
    '[databases]',
    `* = host=${server.hostname} port=${server.port || '5432'}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${String(port)}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `admin_users = ${user}`,
    `auth_file = ${users}`,
    `pool_mode = ${options.poolMode}`,
    `default_pool_size = ${String(options.poolSize)}`,
    'max_client_conn = 200',
    // A client left waiting for a server connection fails after 20 s instead of 120.
    'query_wait_timeout = 20',
    '',
  ].join('\n'), { mode: 0o600 });
  const child = spawn(binary, [...runAs(dir, [config, users]), config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      if (!(await exited(child, 5000))) process.kill(child.pid, 'SIGKILL');
      await exited(child, 5000);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!/listening on 127\.0\.0\.1/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`PgBouncer did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = (database: string): string => {
    const through = new URL(server.toString());
    through.hostname = '127.0.0.1';
    through.port = String(port);
    through.pathname = `/${database}`;
    return through.toString();
  };
  return {
    pid: child.pid as number,
    port,
    url,
    async waitingClients(database: string) {
      // The admin console: the virtual database `pgbouncer`, open to admin_users.
      const admin = new pg.Client({ connectionString: url('pgbouncer') });
      await admin.connect();
      try {
        const { rows } = await admin.query('SHOW POOLS');
        return rows.filter((row) => row.database === database).reduce((n, row) => n + Number(row.cl_waiting), 0);
      } finally {
        await admin.end();
      }
    },
    stop,
    log: () => output,
  };
}

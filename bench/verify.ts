/**
 * `verify()` throughput over a store built with `consent.import()` (4 grants per subject), on
 * SQLite (the embedded default's settings) and, with `--pg`, on PostgreSQL.
 *
 * Building a large store takes far longer than verifying it, so it can be kept and reused:
 * `--store FILE` (SQLite) and `--pg-store NAME` (a database on the `--pg` server) are built
 * when missing or incomplete and reused otherwise. Without them each run uses a throwaway one.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import knexFactory, { type Knex } from 'knex';
import { parseArgs, type BenchArgs } from './lib/args';
import { createPgDatabase } from './lib/pg';
import { benchConsent, grants, IMPORT_BATCH, openKnex, REQUIREMENTS, sqliteDrivers, type Target } from './lib/setup';
import { printTable, type ResultRow } from './lib/table';

// Written once the import finished: a store without it (an interrupted build) is rebuilt.
const BUILT = 'bench_verify_built';

function option(name: string, argv = process.argv.slice(2)): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function builtEvents(knex: Knex): Promise<number | null> {
  if (!(await knex.schema.hasTable(BUILT))) return null;
  const row: { events: number | string } | undefined = await knex(BUILT).first('events');
  return row ? Number(row.events) : null;
}

/** Empties a store whose build did not finish (or was of another size). */
async function reset(knex: Knex, target: Target): Promise<Knex> {
  if (target.kind === 'pg') {
    await knex.raw('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    return knex;
  }
  await knex.destroy();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${target.filename}${suffix}`, { force: true });
  return openKnex(target);
}

/** Fills a store with `events` imported grants; a complete store built before is reused. */
async function ensureStore(target: Target, events: number): Promise<{ built: boolean; seconds: number }> {
  let knex = openKnex(target);
  let built = false;
  try {
    const subjects = Math.ceil(events / REQUIREMENTS.length);
    if ((await builtEvents(knex)) === subjects * REQUIREMENTS.length) return { built: false, seconds: 0 };
    knex = await reset(knex, target);
    const consent = await benchConsent(knex);
    const started = performance.now();
    await consent.import(grants(subjects), { batchSize: IMPORT_BATCH });
    const seconds = (performance.now() - started) / 1000;
    await consent.close();
    await knex.raw(target.kind === 'sqlite' ? 'ANALYZE' : 'VACUUM ANALYZE');
    await knex.schema.createTable(BUILT, (t) => t.bigInteger('events').notNullable());
    await knex(BUILT).insert({ events: subjects * REQUIREMENTS.length });
    built = true;
    return { built, seconds };
  } finally {
    await knex.destroy();
    if (built) await flushToDisk(target);
  }
}

/**
 * Writes a store just built out to disk, so that the timed `verify()` does not share the
 * machine with the write-back of the build (hundreds of megabytes): a store at rest.
 */
async function flushToDisk(target: Target): Promise<void> {
  if (target.kind === 'sqlite') {
    const fd = openSync(target.filename, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return;
  }
  const knex = openKnex(target);
  try {
    await knex.raw('CHECKPOINT');
  } finally {
    await knex.destroy();
  }
}

/**
 * CPU seconds of the main thread alone (Linux: its task's utime and stime, in clock ticks of
 * 1/100 s), or null elsewhere. `verify()` hashes on worker threads; the main thread reads,
 * parses and decides, so its time is what bounds the rate on a host with cores to spare.
 */
function mainThreadCpu(): number | null {
  try {
    const fields = readFileSync(`/proc/${String(process.pid)}/task/${String(process.pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : null;
  } catch {
    return null;
  }
}

/** Times one `verify()` of the whole store at `target`. */
async function timeVerify(target: Target, label: string, events: number): Promise<ResultRow> {
  const { built, seconds: buildSeconds } = await ensureStore(target, events);
  const knex = openKnex(target);
  try {
    const consent = await benchConsent(knex, { cache: false });
    const cpu = process.cpuUsage();
    const mainBefore = mainThreadCpu();
    const started = performance.now();
    const result = await consent.verify();
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const mainAfter = mainThreadCpu();
    const main = mainBefore === null || mainAfter === null ? '' : `, main thread ${(mainAfter - mainBefore).toFixed(2)} s`;
    // Of this process (the sqlite3 thread pool and verify()'s threads included): less swayed by other jobs than wall time.
    const cpuSeconds = (used.user + used.system) / 1e6;
    await consent.close();
    const rate = result.checked / seconds;
    return {
      target: `verify() over ${result.checked.toLocaleString('en')} events (${label})`,
      required: '≥ 100,000/s',
      figure: `${Math.round(rate).toLocaleString('en')}/s`,
      pass: result.ok && rate >= 100_000,
      raw: `${seconds.toFixed(2)} s (process CPU ${cpuSeconds.toFixed(2)} s${main}), ok=${String(result.ok)}, ${String(result.problems.length)} problems; store ${built ? `built in ${buildSeconds.toFixed(0)} s` : 'reused'}`,
    };
  } finally {
    await knex.destroy();
  }
}

/** A database named `name` on the server at `serverUrl`, created when missing; never dropped. */
async function keptPgDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`--pg-store: ${name} is not a plain lower-case database name`);
  const admin = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  try {
    const found: unknown = await admin.raw('select 1 from pg_database where datname = ?', [name]);
    if ((found as { rows: unknown[] }).rows.length === 0) await admin.raw(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function main(args: BenchArgs = parseArgs()): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  if (!args.pgOnly) {
    const kept = option('store');
    const dir = kept === undefined ? mkdtempSync(join(tmpdir(), 'consent-bench-')) : null;
    try {
      const filename = kept ?? join(dir as string, 'verify.sqlite3');
      // One store (built through the default driver), verified through each driver in turn.
      for (const { driver, label } of sqliteDrivers()) {
        rows.push(await timeVerify({ kind: 'sqlite', driver, filename }, label, args.events));
      }
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
  if (args.pg) {
    const kept = option('pg-store');
    const db = kept === undefined ? await createPgDatabase(args.pg) : null;
    try {
      const url = db ? db.url : await keptPgDatabase(args.pg, kept as string);
      rows.push(await timeVerify({ kind: 'pg', url }, 'PostgreSQL', args.events));
    } finally {
      await db?.drop();
    }
  }
  printTable('verify', rows);
  return rows;
}

if (import.meta.url === `file://${String(process.argv[1])}`) await main();

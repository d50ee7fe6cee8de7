/**
 * What the integrity proof costs: write throughput (`PUT /consent/me/:id`), `import()` and
 * `verify()`, before (the library as of commit `fffa85c`, the release before the sealed rows
 * and the global log, or `--before COMMIT`) and after (this tree), side by side in one run, on
 * SQLite (the embedded default) and, with `--pg`, PostgreSQL.
 *
 * `node --import tsx bench/integrity-cost.ts [--decisions 200000] [--rounds 3] [--duration 5] [--pg URL]`
 *
 * - import and verify: per round and library, a child process imports `--decisions` grants (four
 *   per subject, batches of 10,000) into a new database, seals the global log (this tree; what
 *   it does in the background after writes), and verifies the whole store with another instance;
 *   the two libraries alternate, the first one changing each round.
 * - writes: one server per library (a child process each, its own database), loaded in turn
 *   with PUT requests over 1,000 subjects by autocannon (10 connections, `--duration` seconds;
 *   an uncounted warm-up first), 2 s apart (the other server's log seal is done meanwhile).
 * Figures: medians of the per-round ratios after / before; verify's events/s after, absolute.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, parseArgs } from './lib/args';
import { load, startServer, type ServerProcess } from './lib/load';
import { olderLibrary, ROOT } from './lib/older-lib';
import { createPgDatabase } from './lib/pg';
import { BENCH_SECRET, grants, IMPORT_BATCH, openKnex, REQUIREMENTS, type Target } from './lib/setup';
import { printTable, ratio, type ResultRow } from './lib/table';

function option(name: string, argv = process.argv.slice(2)): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

const BEFORE_COMMIT = option('before') ?? 'fffa85c';
const SUBJECTS = 1000;
// A child that has not answered by then is stopped (a hang must not stall the bench).
const CHILD_TIMEOUT_MS = 15 * 60_000;
// Before each load: longer than the log seal's debounce (`SEAL_DELAY_MS`, 1 s), so that a
// server's seal of the writes of its own load is done before the other server is loaded.
const SETTLE_MS = 2000;

interface Library {
  createConsent(options: Record<string, unknown>): {
    register(defs: unknown): void;
    ready(): Promise<void>;
    import(items: Iterable<unknown>, options?: { batchSize?: number }): Promise<unknown>;
    verify(): Promise<{ ok: boolean; checked: number }>;
    /** This tree's: seals the global log first. */
    checkpoint?: () => Promise<unknown>;
    close(): Promise<void>;
  };
}

/** One library's import and verify rates on a new database. */
interface Rates {
  importRate: number;
  verifyRate: number;
  ok: boolean;
}

/** In a child process: imports `decisions` grants with the library at `libRoot`, then verifies. */
async function importAndVerify(libRoot: string, target: Target, decisions: number): Promise<Rates> {
  const lib = (await import(join(libRoot, 'lib/index.ts'))) as Library;
  const knex = openKnex(target);
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const open = async () => {
      const consent = lib.createConsent({ knex, secret: BENCH_SECRET, cache: false, logger: { warn() {}, error: console.error } });
      consent.register(REQUIREMENTS);
      await consent.ready();
      return consent;
    };
    const importer = await open();
    opened.push(importer);
    let started = performance.now();
    await importer.import(grants(Math.ceil(decisions / REQUIREMENTS.length)), { batchSize: IMPORT_BATCH });
    const importSeconds = (performance.now() - started) / 1000;
    // The global log is sealed in the background after writes: sealed before the timing (a
    // checkpoint seals it first), so that verify() is timed on a store at rest, by another
    // instance, as an operator would run it. The earlier library has no log to seal.
    await importer.checkpoint?.();
    await importer.close();
    const verifier = await open();
    opened.push(verifier);
    started = performance.now();
    const result = await verifier.verify();
    const verifySeconds = (performance.now() - started) / 1000;
    return { importRate: decisions / importSeconds, verifyRate: result.checked / verifySeconds, ok: result.ok };
  } finally {
    // Closed whatever happened (closing twice is harmless), before their database goes.
    for (const consent of opened) await consent.close();
    await knex.destroy();
  }
}

/** A new database of `kind` for one run, and how to remove it. */
async function newDatabase(kind: 'sqlite' | 'pg', pg: string | null): Promise<{ target: Target; drop(): Promise<void> }> {
  if (kind === 'pg') {
    const db = await createPgDatabase(pg as string);
    return { target: { kind: 'pg', url: db.url }, drop: () => db.drop() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'ec-integrity-'));
  return { target: { kind: 'sqlite', filename: join(dir, 'store.sqlite3') }, drop: () => { rmSync(dir, { recursive: true, force: true }); return Promise.resolve(); } };
}

/** Runs `importAndVerify` in a child process (each library loads into a process of its own). */
async function ratesOf(libRoot: string, kind: 'sqlite' | 'pg', pg: string | null, decisions: number): Promise<Rates> {
  const db = await newDatabase(kind, pg);
  try {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench/integrity-cost.ts'), '--emit-json', libRoot, '--target', JSON.stringify(db.target), '--decisions', String(decisions)],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: CHILD_TIMEOUT_MS },
    );
    if (child.status !== 0) throw new Error(`import and verify with ${libRoot} failed (${child.signal ?? String(child.status)}): ${child.stderr}`);
    return JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as Rates;
  } finally {
    await db.drop();
  }
}

const LIBRARIES = ['before', 'after'] as const;
type Which = (typeof LIBRARIES)[number];

/** Every comparison on one kind of database. */
async function compare(kind: 'sqlite' | 'pg', label: string, roots: Record<Which, string>, args: { pg: string | null; rounds: number; duration: number; decisions: number }): Promise<ResultRow[]> {
  const rates: Record<Which, Rates[]> = { before: [], after: [] };
  for (let round = 0; round < args.rounds; round += 1) {
    for (const which of round % 2 === 0 ? LIBRARIES : [...LIBRARIES].reverse()) rates[which].push(await ratesOf(roots[which], kind, args.pg, args.decisions));
  }
  const writes: Record<Which, number[]> = { before: [], after: [] };
  const dbs: Array<{ target: Target; drop(): Promise<void> }> = [];
  const servers: ServerProcess[] = [];
  try {
    for (const which of LIBRARIES) {
      const db = await newDatabase(kind, args.pg);
      dbs.push(db);
      servers.push(await startServer(db.target, SUBJECTS, { script: 'integrity-server.ts', env: { BENCH_LIB: roots[which] } }));
    }
    const put = (i: number, duration: number) => load({
      url: `${(servers[i] as ServerProcess).url}/consent/me/analytics`, method: 'PUT', body: JSON.stringify({ decision: 'granted' }), subjects: SUBJECTS, duration,
    });
    for (let i = 0; i < servers.length; i += 1) await put(i, Math.min(1, args.duration));
    for (let round = 0; round < args.rounds; round += 1) {
      for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
        await new Promise((resolve) => setTimeout(resolve, args.duration < 1 ? 0 : SETTLE_MS));
        const result = await put(i, args.duration);
        if (result.errors > 0) throw new Error(`PUT (${LIBRARIES[i] as string}): ${String(result.errors)} failed requests`);
        writes[LIBRARIES[i] as Which].push(result.rps);
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(dbs.map((db) => db.drop()));
  }
  const ratios = (after: number[], before: number[]): number[] => after.map((a, i) => a / (before[i] as number));
  const perRound = (values: number[]): string => values.map(ratio).join(' ');
  const rounded = (values: number[]): string => values.map((v) => Math.round(v).toLocaleString('en')).join(' ');
  const importRatios = ratios(rates.after.map((r) => r.importRate), rates.before.map((r) => r.importRate));
  const verifyRatios = ratios(rates.after.map((r) => r.verifyRate), rates.before.map((r) => r.verifyRate));
  const writeRatios = ratios(writes.after, writes.before);
  const verifyAfter = median(rates.after.map((r) => r.verifyRate));
  const allOk = [...rates.after, ...rates.before].every((r) => r.ok);
  const events = `${args.decisions.toLocaleString('en')} events`;
  return [
    {
      target: `PUT /me/:id, after / before (${label})`,
      required: '≥ 0.9',
      figure: ratio(median(writeRatios)),
      pass: median(writeRatios) >= 0.9,
      raw: `req/s after ${rounded(writes.after)}, before ${rounded(writes.before)}; per round ${perRound(writeRatios)}`,
    },
    {
      target: `import(), after / before (${label})`,
      required: '≥ 0.9',
      figure: ratio(median(importRatios)),
      pass: median(importRatios) >= 0.9,
      raw: `decisions/s after ${rounded(rates.after.map((r) => r.importRate))}, before ${rounded(rates.before.map((r) => r.importRate))}; per round ${perRound(importRatios)}`,
    },
    {
      target: `verify() over ${events}, after / before (${label})`,
      required: 'report',
      figure: ratio(median(verifyRatios)),
      pass: null,
      raw: `events/s after ${rounded(rates.after.map((r) => r.verifyRate))}, before ${rounded(rates.before.map((r) => r.verifyRate))}; per round ${perRound(verifyRatios)}`,
    },
    {
      target: `verify() over ${events}, after (${label})`,
      required: '≥ 100,000/s',
      figure: `${Math.round(verifyAfter).toLocaleString('en')}/s`,
      pass: allOk && verifyAfter >= 100_000,
      raw: `median of ${String(args.rounds)}; every store verified ${allOk ? 'ok' : 'with problems'}`,
    },
  ];
}

async function main(): Promise<void> {
  const json = option('emit-json');
  const args = parseArgs();
  const decisions = Number(option('decisions') ?? (args.tiny ? 2_000 : 200_000));
  if (json !== undefined) {
    // A child run: one library's rates as JSON on stdout.
    const target = JSON.parse(option('target') as string) as Target;
    process.stdout.write(`${JSON.stringify(await importAndVerify(json, target, decisions))}\n`);
    return;
  }
  const settings = {
    pg: args.pg,
    rounds: Number(option('rounds') ?? (args.tiny ? 1 : 3)),
    duration: Number(option('duration') ?? (args.tiny ? 0.3 : 5)),
    decisions,
  };
  const roots: Record<Which, string> = { before: olderLibrary(BEFORE_COMMIT), after: ROOT };
  const rows: ResultRow[] = [];
  if (!args.pgOnly) rows.push(...(await compare('sqlite', 'SQLite', roots, settings)));
  if (args.pg !== null) rows.push(...(await compare('pg', 'PostgreSQL', roots, settings)));
  printTable(`Integrity cost: after (this tree) / before (${BEFORE_COMMIT}), ${String(settings.rounds)} rounds`, rows);
}

await main();

/**
 * Bytes on disk, whole database, SQLite and (with `--pg`) PostgreSQL, before (the schema of
 * migration 005, built by the library as of commit `fffa85c`, unless `--before` names another)
 * and after (this tree):
 * - per subject: `--subjects` people (default 100,000) with one decision each;
 * - per event: `--events` events (default 1,000,000) over a tenth as many people, ten each.
 * Stores are built with `consent.import()` (no personal fields, as most events). `--after-only`
 * skips the old library; `--before COMMIT` measures another commit's library as "before".
 * SQLite: the file after a WAL checkpoint. PostgreSQL: every relation of the consent tables
 * (heap, indexes, TOAST) after `VACUUM ANALYZE`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { parseArgs } from './lib/args';
import { olderLibrary, ROOT, type LibraryModule } from './lib/older-lib';
import { createPgDatabase } from './lib/pg';
import { BENCH_SECRET, IMPORT_BATCH, openKnex, REQUIREMENTS, type Target } from './lib/setup';
import { printTable, type ResultRow } from './lib/table';

function option(name: string, argv = process.argv.slice(2)): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

// The library measured as "before": `--before COMMIT`, else the release before the sealed rows.
const BEFORE_COMMIT = option('before') ?? 'fffa85c';

/** One decision each: `subjects` people grant the first requirement. */
function* oneDecision(subjects: number, at: number): Generator<Record<string, unknown>> {
  for (let i = 0; i < subjects; i += 1) yield { subjectId: `u${String(i)}`, requirement: REQUIREMENTS[0]?.id, decision: 'granted', at };
}

/** Ten events each: the requirements in turn, granted and denied alternately, one second apart. */
function* tenEach(subjects: number, at: number): Generator<Record<string, unknown>> {
  for (let i = 0; i < subjects; i += 1) {
    for (let k = 0; k < 10; k += 1) {
      const requirement = REQUIREMENTS[k % REQUIREMENTS.length]?.id;
      yield { subjectId: `v${String(i)}`, requirement, decision: k % 2 === 0 ? 'granted' : 'denied', at: at + k * 1000 };
    }
  }
}

/** The bytes the consent database takes. */
async function bytesOf(knex: Knex, target: Target): Promise<number> {
  if (target.kind === 'sqlite') {
    await knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
    return statSync(target.filename).size;
  }
  await knex.raw('VACUUM ANALYZE');
  const { rows } = await knex.raw<{ rows: Array<{ n: string }> }>(
    "select coalesce(sum(pg_total_relation_size(c.oid)), 0) as n from pg_class c join pg_namespace s on s.oid = c.relnamespace where s.nspname = 'public' and c.relkind in ('r', 'm')",
  );
  return Number(rows[0]?.n ?? 0);
}

/** Builds one store with the library at `libRoot` and measures it (and how long the import took). */
async function measure(libRoot: string, target: Target, items: Iterable<unknown>): Promise<{ bytes: number; seconds: number }> {
  const lib = (await import(join(libRoot, 'lib/index.ts'))) as LibraryModule;
  const knex = openKnex(target);
  try {
    const consent = lib.createConsent({ knex, secret: BENCH_SECRET, logger: { warn() {}, error: console.error } });
    consent.register(REQUIREMENTS);
    await consent.ready();
    const started = performance.now();
    await consent.import(items, { batchSize: IMPORT_BATCH });
    const seconds = (performance.now() - started) / 1000;
    await consent.close();
    return { bytes: await bytesOf(knex, target), seconds };
  } finally {
    await knex.destroy();
  }
}

interface Figure {
  scenario: 'subject' | 'event';
  database: string;
  bytes: number;
  units: number;
  /** Seconds the import took. */
  seconds: number;
}

/** Measures both scenarios on SQLite and (with a server) PostgreSQL, with one library. */
async function measureAll(libRoot: string, subjects: number, events: number, pg: string | null): Promise<Figure[]> {
  const at = Date.parse('2025-01-01T00:00:00.000Z');
  const scenarios = [
    { scenario: 'subject' as const, units: subjects, items: () => oneDecision(subjects, at) },
    { scenario: 'event' as const, units: events, items: () => tenEach(Math.ceil(events / 10), at) },
  ];
  const figures: Figure[] = [];
  for (const s of scenarios) {
    const dir = mkdtempSync(join(tmpdir(), 'ec-disk-'));
    try {
      const target: Target = { kind: 'sqlite', filename: join(dir, 'disk.sqlite3') };
      figures.push({ scenario: s.scenario, database: 'SQLite', ...(await measure(libRoot, target, s.items())), units: s.units });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (pg !== null) {
      const database = await createPgDatabase(pg);
      try {
        figures.push({ scenario: s.scenario, database: 'PostgreSQL', ...(await measure(libRoot, { kind: 'pg', url: database.url }, s.items())), units: s.units });
      } finally {
        await database.drop();
      }
    }
  }
  return figures;
}

const TARGETS = { subject: 425, event: 400 };

/** Imported decisions per second (one decision per event). */
const rate = (f: Figure): string => Math.round(f.units / f.seconds).toLocaleString('en');

async function main(): Promise<void> {
  const args = parseArgs();
  const subjects = Number(option('subjects') ?? (args.tiny ? 2_000 : 100_000));
  const events = Number(option('events') ?? (args.tiny ? 10_000 : 1_000_000));
  const json = option('emit-json');
  const pg = args.pg;
  if (json !== undefined) {
    // A child run: the library at `--lib`, its figures as JSON on stdout.
    process.stdout.write(`${JSON.stringify(await measureAll(json, subjects, events, pg))}\n`);
    return;
  }
  const after = await measureAll(ROOT, subjects, events, pg);
  let before: Figure[] | null = null;
  if (!process.argv.includes('--after-only')) {
    const dir = olderLibrary(BEFORE_COMMIT);
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench/disk.ts'), '--emit-json', dir, '--subjects', String(subjects), '--events', String(events), ...(pg === null ? ['--sqlite-only'] : ['--pg', pg])],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
    );
    if (child.status !== 0) throw new Error(`the run of the old library failed: ${child.stderr}`);
    before = JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as Figure[];
  }
  const rows: ResultRow[] = after.map((figure) => {
    const old = before?.find((b) => b.scenario === figure.scenario && b.database === figure.database);
    const per = figure.bytes / figure.units;
    const unit = figure.scenario === 'subject' ? 'subject (one decision)' : 'event (ten per subject)';
    const target = TARGETS[figure.scenario];
    return {
      target: `bytes per ${unit} (${figure.database})`,
      required: `≤ ${String(target)}`,
      figure: per.toFixed(0),
      pass: per <= target,
      raw: `${(figure.bytes / 1e6).toFixed(1)} MB for ${figure.units.toLocaleString('en')}; import ${rate(figure)} decisions/s` +
        (old
          ? `; before (${BEFORE_COMMIT}): ${(old.bytes / old.units).toFixed(0)} per unit, ${(old.bytes / 1e6).toFixed(1)} MB, import ${rate(old)}/s; ` +
            `after/before: bytes ${(figure.bytes / old.bytes).toFixed(2)}, import rate ${(old.seconds / figure.seconds).toFixed(2)}`
          : ''),
    };
  });
  printTable(`Bytes on disk (${subjects.toLocaleString('en')} one-decision subjects; ${events.toLocaleString('en')} events)`, rows);
}

await main();

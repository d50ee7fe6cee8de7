/**
 * `consent.sweep()` when many grants lapse at once: `--subjects` subjects (20,000) import one
 * grant each at the same moment, the clock moves past their expiry, and one sweep records every
 * expiry. On the embedded default's settings (and through better-sqlite3 when installed), and on
 * PostgreSQL with `--pg URL`. With `--before COMMIT` the library as of that commit sweeps a store
 * of its own first, in the same run:
 *
 *   node --import tsx bench/sweep.ts [--subjects N] [--before COMMIT] [--pg URL]
 *
 * Not part of `npm run bench`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_SECRET, openKnex, sqliteDrivers, type Target } from './lib/setup';
import { createPgDatabase } from './lib/pg';
import { olderLibrary, ROOT, type LibraryModule } from './lib/older-lib';

const DAY = 86_400_000;
const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};

interface Sweeping {
  sweep(): Promise<{ recorded: number }>;
}

/** Expiries recorded per second by one sweep over `subjects` grants that lapsed together, with the library at `libRoot`. */
async function sweepRate(libRoot: string, target: Target, subjects: number): Promise<number> {
  const lib = (await import(join(libRoot, 'lib/index.ts'))) as LibraryModule;
  const knex = openKnex(target);
  const granted = Date.now() - 2 * DAY;
  let now = granted + 1000;
  try {
    const consent = lib.createConsent({ knex, secret: BENCH_SECRET, cache: false, sweep: false, now: () => new Date(now), logger: { warn() {}, error: console.error } });
    try {
      consent.register({ id: 'analytics', title: 'Analytics', description: 'Pages you open', expiresAfterDays: 1 });
      await consent.ready();
      await consent.import((function* () {
        for (let i = 0; i < subjects; i += 1) yield { subjectId: `u${String(i)}`, requirement: 'analytics', decision: 'granted', at: granted };
      })(), { batchSize: 10_000 });
      now = granted + 2 * DAY;
      const started = performance.now();
      const { recorded } = await (consent as unknown as Sweeping).sweep();
      const seconds = (performance.now() - started) / 1000;
      if (recorded !== subjects) throw new Error(`the sweep recorded ${String(recorded)} expiries of ${String(subjects)}`);
      return recorded / seconds;
    } finally {
      await consent.close();
    }
  } finally {
    await knex.destroy();
  }
}

const subjects = Number(option('subjects') ?? 20_000);
const before = option('before');
const pg = option('pg');
const dir = mkdtempSync(join(tmpdir(), 'bench-sweep-'));
const libraries: Array<[string, string]> = before === undefined ? [['this tree', ROOT]] : [[`before (${before})`, olderLibrary(before)], ['this tree', ROOT]];
try {
  console.log(`\n### sweep(): ${subjects.toLocaleString('en')} grants lapsed at once, one sweep (expiries recorded per second)\n`);
  console.log(`| store | ${libraries.map(([name]) => name).join(' | ')} |`);
  console.log(`|---|${libraries.map(() => '---').join('|')}|`);
  const targets: Array<{ label: string; target: () => Promise<{ target: Target; drop(): Promise<void> }> }> = sqliteDrivers().map(({ driver, label }) => ({
    label,
    target: () => {
      const filename = join(dir, `sweep-${driver}-${String(performance.now())}.sqlite3`);
      return Promise.resolve({ target: { kind: 'sqlite', driver, filename }, drop: () => Promise.resolve() });
    },
  }));
  if (pg !== undefined) {
    targets.push({
      label: 'PostgreSQL',
      target: async () => {
        const db = await createPgDatabase(pg);
        return { target: { kind: 'pg', url: db.url }, drop: () => db.drop() };
      },
    });
  }
  for (const { label, target } of targets) {
    const rates: string[] = [];
    for (const [, root] of libraries) {
      const store = await target();
      try {
        rates.push(`${Math.round(await sweepRate(root, store.target, subjects)).toLocaleString('en')}/s`);
      } finally {
        await store.drop();
      }
    }
    console.log(`| ${label} | ${rates.join(' | ')} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

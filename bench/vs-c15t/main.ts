/**
 * express-consent beside c15t 2.2.1 (the best-known Node consent backend), both on SQLite, at
 * `--subjects` subjects (100,000 by default):
 *
 *   node --import tsx bench/vs-c15t/main.ts [--subjects N] [--duration S] [--rounds R]
 *     [--connections C] [--c15t-dir DIR] [--memory]
 *
 * c15t is installed with npm into DIR (a directory outside the repository, by default
 * `<tmpdir>/express-consent-vs-c15t`; reused when present), never as a dependency of this
 * package. Four servers, each in its own process: c15t as documented (kysely, better-sqlite3,
 * WAL), c15t with the index it lacks (consent records by subject), and express-consent with
 * the embedded default's settings through `sqlite3` and through `better-sqlite3`. Workloads:
 * read one subject again and again, read a random subject, write a new subject with three
 * decisions. autocannon, `--connections` (20) connections, `--duration` (10) seconds per
 * variant, `--rounds` (3) interleaved rounds after an uncounted warm-up; figures are medians,
 * ratios are against indexed c15t in the same round. Then resident memory and file sizes.
 * `--memory` adds the memory breakdown of express-consent (sqlite3) under the random read.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from '../lib/args';
import { REQUIREMENTS } from '../lib/setup';
import { runChild, startChild, type Child } from './children';
import { loadWorkload } from './drive';
import type { MemoryReport } from './memory';
import { WORKLOADS } from './workloads';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const subjects = option('subjects', 100_000);
const duration = option('duration', 10);
const rounds = option('rounds', 3);
const connections = option('connections', 20);
const c15tDir = argv.includes('--c15t-dir') ? (argv[argv.indexOf('--c15t-dir') + 1] as string) : join(tmpdir(), 'express-consent-vs-c15t');
const DECIDED = REQUIREMENTS.slice(0, 3).map((r) => r.id);
const C15T = ['@c15t/backend@2.2.1', 'kysely@0.28.19'];

/** Installs c15t into `dir` unless it is there already; better-sqlite3 is this repository's. */
function installC15t(dir: string): void {
  if (existsSync(join(dir, 'node_modules', '@c15t', 'backend', 'package.json'))) return;
  mkdirSync(dir, { recursive: true });
  console.log(`installing ${C15T.join(' ')} into ${dir}`);
  execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--ignore-scripts', ...C15T], { stdio: 'inherit' });
}

interface Variant {
  name: string;
  kind: 'c15t' | 'consent';
  file: string;
  env: Record<string, string>;
  child?: Child;
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
const fileSize = (file: string): number => [file, `${file}-wal`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);

installC15t(c15tDir);
const dir = mkdtempSync(join(tmpdir(), 'vs-c15t-'));
try {
  const files = { c15t: join(dir, 'c15t.sqlite3'), c15tIndexed: join(dir, 'c15t-indexed.sqlite3'), sqlite3: join(dir, 'ec-sqlite3.sqlite3'), better: join(dir, 'ec-better.sqlite3') };
  console.log(`seeding ${String(subjects)} subjects (3 granted decisions each) in ${dir}`);
  const c15tEnv = { VS_C15T_PREFIX: c15tDir };
  await runChild('c15t-server.ts', { ...c15tEnv, VS_DB: files.c15t, VS_SEED: String(subjects) });
  copyFileSync(files.c15t, files.c15tIndexed);
  await runChild('c15t-server.ts', { ...c15tEnv, VS_DB: files.c15tIndexed, VS_INDEX_ONLY: '1' });
  const started = Date.now();
  await runChild('consent-server.ts', { VS_DB: files.sqlite3, VS_DRIVER: 'sqlite3', VS_SEED: String(subjects) });
  console.log(`express-consent import: ${String(Math.round((subjects * DECIDED.length) / ((Date.now() - started) / 1000)))} decisions/s (process start included)`);
  copyFileSync(files.sqlite3, files.better);
  const seeded = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, fileSize(f)]));

  const variants: Variant[] = [
    { name: 'c15t', kind: 'c15t', file: files.c15t, env: { ...c15tEnv, VS_DB: files.c15t } },
    { name: 'c15t + index', kind: 'c15t', file: files.c15tIndexed, env: { ...c15tEnv, VS_DB: files.c15tIndexed } },
    { name: 'express-consent, sqlite3', kind: 'consent', file: files.sqlite3, env: { VS_DB: files.sqlite3, VS_DRIVER: 'sqlite3' } },
    { name: 'express-consent, better-sqlite3', kind: 'consent', file: files.better, env: { VS_DB: files.better, VS_DRIVER: 'better-sqlite3' } },
  ];
  for (const v of variants) v.child = await startChild(v.kind === 'c15t' ? 'c15t-server.ts' : 'consent-server.ts', v.env);

  const results = new Map<string, number[]>();
  const memory = new Map<string, MemoryReport>();
  for (const workload of WORKLOADS) {
    const run = (v: Variant, seconds: number) =>
      loadWorkload({ url: (v.child as Child).url, kind: v.kind, workload, subjects, seconds, connections, decided: DECIDED });
    for (const v of variants) await run(v, Math.min(2, duration));
    for (let round = 0; round < rounds; round += 1) {
      for (let i = 0; i < variants.length; i += 1) {
        const v = variants[(i + round) % variants.length] as Variant;
        const rps = await run(v, duration);
        const key = `${workload}|${v.name}`;
        results.set(key, [...(results.get(key) ?? []), rps]);
      }
    }
    if (workload === 'read a random subject') {
      for (const v of variants) memory.set(v.name, await (v.child as Child).memory());
    }
  }
  const atEnd = new Map<string, MemoryReport>();
  for (const v of variants) atEnd.set(v.name, await (v.child as Child).memory());
  for (const v of variants) await (v.child as Child).stop();

  const names = variants.map((v) => v.name);
  console.log(`\n### express-consent beside c15t 2.2.1 (${String(subjects)} subjects, ${String(connections)} connections, ${String(rounds)} rounds × ${String(duration)} s, medians)\n`);
  console.log(`| ${[`${String(subjects)} subjects`, ...names].join(' | ')} |`);
  console.log(`|${['---', ...names.map(() => '---')].join('|')}|`);
  for (const workload of WORKLOADS) {
    const base = results.get(`${workload}|c15t + index`) as number[];
    const cells = variants.map((v) => {
      const rps = results.get(`${workload}|${v.name}`) as number[];
      const ratios = rps.map((r, i) => r / (base[i] as number));
      return `${median(rps).toFixed(1)} req/s (${median(ratios).toFixed(2)}×)`;
    });
    console.log(`| ${workload} | ${cells.join(' | ')} |`);
  }
  const rss = (m: Map<string, MemoryReport>) => names.map((n) => `${String(m.get(n)?.rss)} MiB`);
  console.log(`| resident memory after the random reads | ${rss(memory).join(' | ')} |`);
  console.log(`| resident memory at the end | ${rss(atEnd).join(' | ')} |`);
  console.log(`| database file at ${String(subjects)} subjects | ${[seeded.c15t, seeded.c15tIndexed, seeded.sqlite3, seeded.better].map((b) => `${mb(b as number)} MB`).join(' | ')} |`);
  console.log(`| database file at the end (with WAL) | ${variants.map((v) => `${mb(fileSize(v.file))} MB`).join(' | ')} |`);
  console.log('\nRatios (×) are against c15t + index, measured in the same round. Memory (MiB): rss = anonymous + file-backed.');
  for (const n of names) console.log(`- ${n}: after random reads ${JSON.stringify(memory.get(n))}; at the end ${JSON.stringify(atEnd.get(n))}`);

  if (argv.includes('--memory')) {
    const { memoryBreakdown } = await import('./breakdown');
    await memoryBreakdown({ source: files.sqlite3, dir, subjects, seconds: duration, connections, decided: DECIDED });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);

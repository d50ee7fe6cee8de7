/**
 * The `/me` routes before and after a change, side by side in one run: the three workloads of
 * `bench/vs-c15t` (read one subject, read a random subject, write a new subject with three
 * decisions) against the library as of `--before` (default `657f373`) and this tree, on the
 * embedded SQLite default through `sqlite3` and `better-sqlite3`.
 *
 *   node --import tsx bench/me-routes.ts [--subjects 100000] [--duration 6] [--rounds 2]
 *     [--connections 20] [--before COMMIT] [--durable]
 *
 * `--durable` registers a durable `change` handler in both servers (an outbox entry per decision,
 * delivered and deleted by the same process) and runs the write workload only.
 *
 * One store of `--subjects` subjects with three grants each is imported by each library (in its
 * own schema), then copied for each driver; each library serves its copy from a child process of its own
 * (`integrity-server.ts`: the subject is the `x-user` header). Per round, workload and driver the
 * two servers are loaded in turn (autocannon, an uncounted 2 s warm-up, then `--duration` s),
 * the first one alternating. Figures: medians of the per-round ratios after / before.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './lib/args';
import { startServer, type ServerProcess } from './lib/load';
import { olderLibrary, ROOT, type LibraryModule } from './lib/older-lib';
import { BENCH_SECRET, IMPORT_BATCH, openKnex, REQUIREMENTS, type SqliteDriver } from './lib/setup';
import { loadWorkload } from './vs-c15t/drive';
import { WORKLOADS } from './vs-c15t/workloads';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? (argv[i + 1] as string) : fallback;
};
const subjects = Number(option('subjects', '100000'));
const duration = Number(option('duration', '6'));
const rounds = Number(option('rounds', '2'));
const connections = Number(option('connections', '20'));
const before = option('before', '657f373');
const durable = argv.includes('--durable');
const DECIDED = REQUIREMENTS.slice(0, 3).map((r) => r.id);
const SIDES = ['before', 'after'] as const;

/** A store of `subjects` subjects with three grants each, imported into `file` by the library at `libRoot` (its own schema). */
async function seed(libRoot: string, file: string): Promise<void> {
  const lib = (await import(join(libRoot, 'lib/index.ts'))) as LibraryModule;
  const knex = openKnex({ kind: 'sqlite', filename: file });
  const consent = lib.createConsent({ knex, secret: BENCH_SECRET, logger: { warn() {}, error: console.error } });
  consent.register(REQUIREMENTS);
  await consent.ready();
  const at = Date.now() - 60_000;
  function* decisions(): Generator<Record<string, unknown>> {
    for (let i = 0; i < subjects; i += 1) for (const requirement of DECIDED) yield { subjectId: `u${String(i)}`, requirement, decision: 'granted', at };
  }
  await consent.import(decisions(), { batchSize: IMPORT_BATCH });
  await consent.close();
  await knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  await knex.destroy();
}

const dir = mkdtempSync(join(tmpdir(), 'me-routes-'));
try {
  const roots = { before: olderLibrary(before), after: ROOT };
  for (const side of SIDES) await seed(roots[side], join(dir, `seeded-${side}.sqlite3`));
  console.log(`${String(subjects)} subjects × 3 grants; before = ${before}, after = this tree; ${String(connections)} connections, ${String(rounds)} rounds × ${String(duration)} s${durable ? '; a durable change handler' : ''}`);
  console.log('\n| driver | workload | before (req/s, median) | after (req/s, median) | after / before (median; per round) |\n|---|---|---|---|---|');
  for (const driver of ['sqlite3', 'better-sqlite3'] as SqliteDriver[]) {
    const servers: Partial<Record<(typeof SIDES)[number], ServerProcess>> = {};
    for (const side of SIDES) {
      const file = join(dir, `${side}-${driver}.sqlite3`);
      copyFileSync(join(dir, `seeded-${side}.sqlite3`), file);
      servers[side] = await startServer({ kind: 'sqlite', filename: file, driver }, subjects, { script: 'integrity-server.ts', env: { BENCH_LIB: roots[side], BENCH_DURABLE: durable ? '1' : '0' } });
    }
    for (const workload of durable ? WORKLOADS.filter((w) => w.startsWith('write')) : WORKLOADS) {
      const figures: Record<(typeof SIDES)[number], number[]> = { before: [], after: [] };
      for (let round = 0; round < rounds; round += 1) {
        const order = round % 2 === 0 ? [...SIDES] : [...SIDES].reverse();
        for (const side of order) {
          const spec = { url: (servers[side] as ServerProcess).url, kind: 'consent' as const, workload, subjects, connections, decided: DECIDED };
          await loadWorkload({ ...spec, seconds: 2 });
          figures[side].push(await loadWorkload({ ...spec, seconds: duration }));
        }
      }
      const ratios = figures.after.map((a, i) => a / (figures.before[i] as number));
      console.log(`| ${driver} | ${workload} | ${median(figures.before).toFixed(0)} | ${median(figures.after).toFixed(0)} | ${median(ratios).toFixed(2)}; ${ratios.map((r) => r.toFixed(2)).join(' ')} |`);
    }
    for (const side of SIDES) await (servers[side] as ServerProcess).stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * `consent.import()` at one decision per subject and at ten, on the embedded default's
 * settings (and through better-sqlite3 when installed), and on PostgreSQL with `--pg URL` (or
 * `CONSENT_TEST_PG_URL`):
 *
 *   node --import tsx bench/import-rate.ts [--decisions N] [--rounds R] [--pg URL]
 *
 * Each run imports `--decisions` (200,000) decisions into a new file (a new database on
 * PostgreSQL), in batches of 10,000; runs alternate between the two shapes; the figure is the
 * median rate in decisions/s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './lib/args';
import { createPgDatabase } from './lib/pg';
import { benchConsent, IMPORT_BATCH, openKnex, REQUIREMENTS, sqliteDrivers, type Target } from './lib/setup';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};

/** `total` decisions, `perSubject` for each subject (over the bench requirements, then again). */
function* decisions(total: number, perSubject: number, at: number): Generator<Record<string, unknown>> {
  for (let i = 0; i < total; i += 1) {
    const subject = Math.floor(i / perSubject);
    const requirement = REQUIREMENTS[(i % perSubject) % REQUIREMENTS.length]?.id as string;
    yield { subjectId: `s${String(subject)}`, requirement, decision: i % 3 ? 'granted' : 'denied', at: at + (i % perSubject) };
  }
}

/** Decisions per second of one import into a new store: an SQLite file, or a PostgreSQL database. */
async function importRate(target: (run: string) => Promise<{ target: Target; drop(): Promise<void> }>, total: number, perSubject: number, run: number): Promise<number> {
  const store = await target(`${String(perSubject)}-${String(run)}`);
  const knex = openKnex(store.target);
  try {
    const consent = await benchConsent(knex, { cache: false });
    const started = process.hrtime.bigint();
    await consent.import(decisions(total, perSubject, Date.now() - 3_600_000), { batchSize: IMPORT_BATCH });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await consent.close();
    return total / seconds;
  } finally {
    await knex.destroy();
    await store.drop();
  }
}

const total = option('decisions', 200_000);
const rounds = option('rounds', 3);
const pgIndex = argv.indexOf('--pg');
const pg = pgIndex >= 0 ? argv[pgIndex + 1] : process.env.CONSENT_TEST_PG_URL;
const dir = mkdtempSync(join(tmpdir(), 'import-rate-'));
const targets: Array<{ label: string; target: (run: string) => Promise<{ target: Target; drop(): Promise<void> }> }> = sqliteDrivers().map(({ driver }) => ({
  label: driver,
  target: (run) => Promise.resolve({ target: { kind: 'sqlite', driver, filename: join(dir, `import-${driver}-${run}.sqlite3`) }, drop: () => Promise.resolve() }),
}));
if (pg) {
  targets.push({
    label: 'PostgreSQL',
    target: async () => {
      const db = await createPgDatabase(pg);
      return { target: { kind: 'pg', url: db.url }, drop: () => db.drop() };
    },
  });
}
try {
  console.log(`\n### import(): ${String(total)} decisions per run, batches of ${String(IMPORT_BATCH)}, median of ${String(rounds)} runs\n`);
  console.log('| store | 1 decision per subject | 10 decisions per subject | ratio |');
  console.log('|---|---|---|---|');
  for (const { label, target } of targets) {
    const rates: Record<number, number[]> = { 1: [], 10: [] };
    for (let run = 0; run < rounds; run += 1) {
      for (const perSubject of run % 2 ? [10, 1] : [1, 10]) (rates[perSubject] as number[]).push(await importRate(target, total, perSubject, run));
    }
    const one = median(rates[1] as number[]);
    const ten = median(rates[10] as number[]);
    console.log(`| ${label} | ${one.toFixed(0)}/s (${(rates[1] as number[]).map((r) => r.toFixed(0)).join(', ')}) | ${ten.toFixed(0)}/s (${(rates[10] as number[]).map((r) => r.toFixed(0)).join(', ')}) | ${(one / ten).toFixed(2)} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

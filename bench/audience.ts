/**
 * Audience benchmarks: `consent.audience()` over a store of `--subjects` subjects (default
 * 1,000,000), with the process's resident memory sampled while it streams, against a bare keyset
 * scan of the same subject rows in the same run; and `consent.filterAllowed()` over every
 * subject's id. The store is built with `consent.import()` (one decision per subject: nine in ten
 * grant the newsletter, one in ten refuses it).
 *
 *   node --import tsx bench/audience.ts [--subjects N] [--sqlite-only | --pg-only] [--pg URL]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { parseArgs, type BenchArgs } from './lib/args';
import { createPgDatabase } from './lib/pg';
import { benchConsent, IMPORT_BATCH, openKnex, type Target } from './lib/setup';
import { printTable, ratio, type ResultRow } from './lib/table';

const MB = 1024 * 1024;

/** `--subjects`: the store's size (a smaller one for quick runs). */
function subjectCount(args: BenchArgs, argv = process.argv.slice(2)): number {
  const i = argv.indexOf('--subjects');
  if (i >= 0) return Number(argv[i + 1]);
  return args.tiny ? 2_000 : 1_000_000;
}

function* decisions(subjects: number, at: number): Generator<Record<string, unknown>> {
  for (let i = 0; i < subjects; i += 1) {
    yield { subjectId: `u${String(i)}`, requirement: 'newsletter', decision: i % 10 === 9 ? 'denied' : 'granted', at };
  }
}

/**
 * Memory, sampled: the first reading, the highest and the last (MB) of the resident set and of
 * the JavaScript heap. On SQLite the resident set also counts the pages of the database file
 * read through its memory map (the embedded default maps up to 1 GiB), which the kernel may
 * drop at any time; the heap is what the listing itself holds.
 */
class MemorySampler {
  readonly rss = { first: process.memoryUsage.rss() / MB, peak: 0, last: 0 };
  readonly heap = { first: process.memoryUsage().heapUsed / MB, peak: 0, last: 0 };
  constructor() {
    this.rss.peak = this.rss.last = this.rss.first;
    this.heap.peak = this.heap.last = this.heap.first;
  }
  sample(): void {
    const { rss, heapUsed } = process.memoryUsage();
    this.rss.last = rss / MB;
    this.rss.peak = Math.max(this.rss.peak, this.rss.last);
    this.heap.last = heapUsed / MB;
    this.heap.peak = Math.max(this.heap.peak, this.heap.last);
  }

  describe(): string {
    const line = (name: string, m: { first: number; peak: number; last: number }) =>
      `${name} ${m.first.toFixed(0)} MB at start, ${m.peak.toFixed(0)} MB peak, ${m.last.toFixed(0)} MB at the end`;
    return `${line('RSS', this.rss)}; ${line('heap', this.heap)}`;
  }
}

/** The floor: the same subject rows read by keyset pages of 1000, nothing decrypted or derived. */
async function bareScan(knex: Knex): Promise<{ rows: number; seconds: number }> {
  const started = performance.now();
  let after: Buffer | null = null;
  let rows = 0;
  for (;;) {
    const q = knex('consent_subjects').whereNotNull('pseudonym').orderBy('chain').limit(1000);
    if (after !== null) q.where('chain', '>', after);
    const page = await q.select<Array<{ chain: Buffer }>>('chain', 'sealed_subject');
    rows += page.length;
    if (page.length < 1000) break;
    after = (page[page.length - 1] as { chain: Buffer }).chain;
  }
  return { rows, seconds: (performance.now() - started) / 1000 };
}

async function audienceBench(target: Target, subjects: number, label: string): Promise<ResultRow[]> {
  const knex = openKnex(target);
  try {
    const loader = await benchConsent(knex);
    const built = performance.now();
    await loader.import(decisions(subjects, Date.now() - 60_000), { batchSize: IMPORT_BATCH });
    const buildSeconds = (performance.now() - built) / 1000;
    await loader.close();
    await knex.raw(target.kind === 'sqlite' ? 'ANALYZE' : 'VACUUM ANALYZE');
    const consent = await benchConsent(knex, { cache: false });
    try {
      const bare = await bareScan(knex);
      if (typeof global.gc === 'function') global.gc();
      const memory = new MemorySampler();
      const started = performance.now();
      const audience = consent.audience('newsletter');
      let listed = 0;
      for await (const _ of audience) {
        listed += 1;
        if (listed % 50_000 === 0) memory.sample();
      }
      const seconds = (performance.now() - started) / 1000;
      memory.sample();
      if (listed !== subjects - Math.floor(subjects / 10)) throw new Error(`audience listed ${String(listed)} subjects`);
      const rate = listed / seconds;
      const filterStarted = performance.now();
      let allowed = 0;
      for await (const _ of consent.filterAllowed((function* () { for (let i = 0; i < subjects; i += 1) yield `u${String(i)}`; })(), 'newsletter')) allowed += 1;
      const filterSeconds = (performance.now() - filterStarted) / 1000;
      if (allowed !== listed) throw new Error(`filterAllowed kept ${String(allowed)} ids`);
      const filterRate = subjects / filterSeconds;
      const n = subjects.toLocaleString('en');
      const rows: ResultRow[] = [
        {
          target: `audience() over ${n} subjects (${label})`,
          required: '≥ 200,000 ids/s, flat memory',
          figure: `${Math.round(rate).toLocaleString('en')} ids/s`,
          pass: rate >= 200_000,
          raw: `${listed.toLocaleString('en')} listed in ${seconds.toFixed(1)} s; bare keyset scan of the same rows ${Math.round(bare.rows / bare.seconds).toLocaleString('en')} rows/s (audience / bare ${ratio(rate / (bare.rows / bare.seconds))}); ${memory.describe()}; store built in ${buildSeconds.toFixed(0)} s`,
        },
        {
          target: `filterAllowed() over ${n} ids (${label})`,
          required: '≥ 100,000 ids/s',
          figure: `${Math.round(filterRate).toLocaleString('en')} ids/s`,
          pass: filterRate >= 100_000,
          raw: `${allowed.toLocaleString('en')} kept in ${filterSeconds.toFixed(1)} s; filterAllowed / audience ${ratio(filterRate / rate)}`,
        },
      ];
      return rows;
    } finally {
      await consent.close();
    }
  } finally {
    await knex.destroy();
  }
}

export async function main(args: BenchArgs = parseArgs()): Promise<ResultRow[]> {
  const subjects = subjectCount(args);
  const dir = mkdtempSync(join(tmpdir(), 'consent-bench-'));
  try {
    const rows: ResultRow[] = [];
    if (!args.pgOnly) rows.push(...(await audienceBench({ kind: 'sqlite', filename: join(dir, 'audience.sqlite3') }, subjects, 'SQLite')));
    if (args.pg) {
      const db = await createPgDatabase(args.pg);
      try {
        rows.push(...(await audienceBench({ kind: 'pg', url: db.url }, subjects, 'PostgreSQL')));
      } finally {
        await db.drop();
      }
    }
    printTable(`Audiences (${subjects.toLocaleString('en')} subjects)`, rows);
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${String(process.argv[1])}`) await main();

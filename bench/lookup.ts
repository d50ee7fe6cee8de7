/**
 * Store benchmarks: bulk import throughput (building the stores), state lookup latency with a
 * small and a large history (interleaved rounds), and the query plans of the hot queries.
 * The stores are built with `consent.import()` in batches of `IMPORT_BATCH` (10,000) decisions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import type { Consent } from '../lib/index';
import { median, parseArgs, percentile, type BenchArgs } from './lib/args';
import { createPgDatabase } from './lib/pg';
import { benchConsent, grants, IMPORT_BATCH, openKnex, REQUIREMENTS, sqliteDrivers, type Target } from './lib/setup';
import { captureStatements, queryPlan } from './lib/plans';
import { printTable, ratio, type ResultRow } from './lib/table';

interface Store {
  events: number;
  knex: Knex;
  consent: Consent;
  importRate: number;
  close(): Promise<void>;
}

async function buildStore(target: Target, events: number): Promise<Store> {
  const knex = openKnex(target);
  const loader = await benchConsent(knex);
  const subjects = Math.ceil(events / REQUIREMENTS.length);
  const started = performance.now();
  const { imported } = await loader.import(grants(subjects), { batchSize: IMPORT_BATCH });
  const importRate = imported / ((performance.now() - started) / 1000);
  await loader.close();
  if (target.kind === 'sqlite') await knex.raw('ANALYZE');
  else await knex.raw('VACUUM ANALYZE');
  // Lookups go to the store every time: the cache would hide what the indexes do.
  const consent = await benchConsent(knex, { cache: false });
  return { events: imported, knex, consent, importRate, close: async () => {
    await consent.close();
    await knex.destroy();
  } };
}

/** Microseconds per `states()` call for `count` random known subjects. */
async function lookups(store: Store, count: number): Promise<number[]> {
  const subjects = Math.ceil(store.events / REQUIREMENTS.length);
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const subject = `u${String(Math.floor(Math.random() * subjects))}`;
    const started = performance.now();
    const states = await store.consent.states(subject);
    times.push((performance.now() - started) * 1000);
    if (states.analytics?.state !== 'granted') throw new Error(`lookup of ${subject} found no grant`);
  }
  return times;
}

/** EXPLAIN output of the queries the tracker runs for a lookup, a write and a history page. */
async function queryPlans(store: Store): Promise<string> {
  const captured = await captureStatements(store.knex, async () => {
    await store.consent.states('u1');
    await store.consent.record('u1', { ads: 'denied' });
    await store.consent.history('u1', { limit: 10 });
  });
  const out: string[] = [];
  for (const q of captured.filter((c) => /^\s*(select|update)/i.test(c.sql))) {
    out.push(`${q.sql}\n${(await queryPlan(store.knex, q)).map((line) => `  ${line}`).join('\n')}`);
  }
  return out.join('\n\n');
}

/** Runs the store benchmarks on one database; returns the table rows. */
export async function storeBench(args: BenchArgs, small: Target, large: Target, label: string): Promise<ResultRow[]> {
  const smallEvents = Math.min(10_000, args.events);
  const stores = [await buildStore(small, smallEvents), await buildStore(large, args.events)] as const;
  try {
    const count = args.tiny ? 50 : 2000;
    const samples: [number[], number[]] = [[], []];
    const ratios: number[] = [];
    for (let round = 0; round < args.rounds; round += 1) {
      const order = round % 2 ? [1, 0] : [0, 1];
      const medians: number[] = [0, 0];
      for (const i of order) {
        const times = await lookups(stores[i] as Store, count);
        samples[i as 0 | 1].push(...times);
        medians[i] = median(times);
      }
      ratios.push((medians[1] as number) / (medians[0] as number));
    }
    const value = median(ratios);
    const describe = (i: 0 | 1) => `p50 ${median(samples[i]).toFixed(0)} µs, p99 ${percentile(samples[i], 0.99).toFixed(0)} µs`;
    const [s, l] = stores;
    const rows: ResultRow[] = [
      {
        target: `state lookup, ${l.events.toLocaleString('en')} / ${s.events.toLocaleString('en')} events (${label})`,
        required: '≤ 1.3',
        figure: ratio(value),
        pass: value <= 1.3,
        raw: `large ${describe(1)}; small ${describe(0)}; per round ${ratios.map(ratio).join(' ')}`,
      },
      {
        target: `import of ${l.events.toLocaleString('en')} decisions (${label})`,
        required: '≥ 20,000/s',
        figure: `${Math.round(l.importRate).toLocaleString('en')}/s`,
        pass: l.importRate >= 20_000,
        raw: `batches of ${IMPORT_BATCH.toLocaleString('en')}; ${(l.events / l.importRate).toFixed(1)} s`,
      },
    ];
    printTable(`Store (${label}, ${String(args.rounds)} interleaved rounds × ${String(count)} lookups per store)`, rows);
    console.log(`Query plans of the hot queries on the large store (${label}):\n\n\`\`\`\n${await queryPlans(l)}\n\`\`\`\n`);
    return rows;
  } finally {
    for (const store of stores) await store.close();
  }
}

export async function main(args: BenchArgs = parseArgs()): Promise<ResultRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'consent-bench-'));
  try {
    const rows: ResultRow[] = [];
    if (!args.pgOnly) {
      for (const { driver, label } of sqliteDrivers()) {
        const sqlite = (name: string): Target => ({ kind: 'sqlite', driver, filename: join(dir, `${name}-${driver}.sqlite3`) });
        rows.push(...(await storeBench(args, sqlite('small'), sqlite('large'), label)));
      }
    }
    if (args.pg) {
      const dbs = [await createPgDatabase(args.pg), await createPgDatabase(args.pg)];
      try {
        rows.push(...(await storeBench(args, { kind: 'pg', url: dbs[0]!.url }, { kind: 'pg', url: dbs[1]!.url }, 'PostgreSQL')));
      } finally {
        for (const db of dbs) await db.drop();
      }
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${String(process.argv[1])}`) await main();

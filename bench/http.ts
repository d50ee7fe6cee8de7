/**
 * HTTP benchmarks: the guard (warm cache, default options with writes between loads, cache
 * disabled) against a bare route resolving the subject the same way, the guard for visitors
 * (signed cookie) against a bare route reading the same cookie, and `PUT /me/:id` against a bare
 * PUT that parses the same JSON and
 * inserts one row in a Knex transaction. The server runs in a child process; variants run
 * interleaved, round-robin, after one uncounted warm-up round, and each ratio is the median of
 * the per-round ratios.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, parseArgs, type BenchArgs } from './lib/args';
import { load, startServer, type LoadResult, type LoadSpec } from './lib/load';
import { sqliteDrivers, type Target } from './lib/setup';
import { printTable, ratio, type ResultRow } from './lib/table';
import { createPgDatabase } from './lib/pg';

const SUBJECTS = 1000;
// Writes before each load of the default-options scenario (a tenth with --tiny): half touch
// active subjects (another requirement, so that the guard still lets them through), half
// record new subjects.
const WRITES_BETWEEN = 100;

/**
 * A writer through the server's own API (`PUT /consent/me/:id`), as the app's users would
 * write: each call makes `count` writes, one after the other.
 */
function writer(url: string, count: number): () => Promise<void> {
  let n = 0;
  return async () => {
    for (let i = 0; i < count; i += 1, n += 1) {
      const active = i % 2 === 0;
      const subject = active ? `u${String((n * 7) % SUBJECTS)}` : `w${String(n)}`;
      const decision = active && n % 4 === 0 ? 'denied' : 'granted';
      const res = await fetch(`${url}/consent/me/${active ? 'ads' : 'analytics'}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-user': subject },
        body: JSON.stringify({ decision }),
      });
      if (!res.ok) throw new Error(`writer: ${String(res.status)}`);
      await res.arrayBuffer();
    }
  };
}

/** How many state reads the default-options instance has asked of the store so far. */
async function storeReads(url: string): Promise<number> {
  const res = await fetch(`${url}/bench/reads`);
  return ((await res.json()) as { reads: number }).reads;
}

const VISITORS = 200;

/** Visitors who granted analytics through the router: their cookies, as a browser sends them. */
async function visitorCookies(url: string, count: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const res = await fetch(`${url}/visitors/me/analytics`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"decision":"granted"}' });
    const cookie = res.headers.get('set-cookie');
    if (res.status !== 200 || cookie === null) throw new Error(`visitor write: ${String(res.status)}`);
    cookies.push(cookie.split(';')[0] as string);
  }
  return cookies;
}

/**
 * Runs every variant once per round, rotating the order, and returns each one's results. A
 * warm-up round comes first and is not counted: the first variant of the first round would
 * otherwise run on code the JIT has not compiled yet, and the other caches start cold.
 */
async function interleaved(
  args: BenchArgs,
  variants: Record<string, LoadSpec>,
  hooks: { between?: () => Promise<void>; counted?: () => Promise<void> } = {},
): Promise<Record<string, LoadResult[]>> {
  const names = Object.keys(variants);
  const between = hooks.between ?? (() => Promise.resolve());
  for (const name of names) {
    await between();
    await load(variants[name] as LoadSpec);
  }
  await hooks.counted?.();
  const results: Record<string, LoadResult[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < args.rounds; round += 1) {
    for (let i = 0; i < names.length; i += 1) {
      const name = names[(i + round) % names.length] as string;
      await between();
      const result = await load(variants[name] as LoadSpec);
      if (result.errors > 0) throw new Error(`${name}: ${String(result.errors)} failed requests`);
      (results[name] as LoadResult[]).push(result);
    }
  }
  return results;
}

function row(target: string, min: number, results: Record<string, LoadResult[]>, variant: string, base: string): ResultRow {
  const ratios = (results[variant] as LoadResult[]).map((r, i) => r.rps / (results[base] as LoadResult[])[i]!.rps);
  const value = median(ratios);
  const rps = (name: string) => Math.round(median((results[name] as LoadResult[]).map((r) => r.rps)));
  const p99 = (name: string) => median((results[name] as LoadResult[]).map((r) => r.p99));
  return {
    target,
    required: `≥ ${String(min)}`,
    figure: ratio(value),
    pass: value >= min,
    raw: `${String(rps(variant))} vs ${String(rps(base))} req/s (p99 ${String(p99(variant))} vs ${String(p99(base))} ms); per round ${ratios.map(ratio).join(' ')}`,
  };
}

/** Runs the HTTP benchmarks on one database and returns the table rows. */
export async function httpBench(args: BenchArgs, target: Target, label: string): Promise<ResultRow[]> {
  const server = await startServer(target, SUBJECTS);
  try {
    const base = { subjects: SUBJECTS, duration: args.duration };
    const put = { ...base, method: 'PUT' as const, body: JSON.stringify({ decision: 'granted' }) };
    const guard = await interleaved(args, {
      bare: { ...base, url: `${server.url}/bare` },
      warm: { ...base, url: `${server.url}/guarded` },
      standard: { ...base, url: `${server.url}/guarded-default` },
      cold: { ...base, url: `${server.url}/guarded-nocache` },
    });
    // The default options (`cache.ttlMs` 5 s) while the app keeps writing between loads.
    const writeCount = args.tiny ? WRITES_BETWEEN / 10 : WRITES_BETWEEN;
    let readsBefore = 0;
    const defaults = await interleaved(
      args,
      { bare: { ...base, url: `${server.url}/bare` }, standard: { ...base, url: `${server.url}/guarded-default` } },
      { between: writer(server.url, writeCount), counted: async () => { readsBefore = await storeReads(server.url); } },
    );
    const reads = (await storeReads(server.url)) - readsBefore;
    const served = (defaults.standard as LoadResult[]).reduce((sum, r) => sum + r.requests, 0);
    const cookies = await visitorCookies(server.url, args.tiny ? 20 : VISITORS);
    const visitor = { ...base, cookies };
    const visitors = await interleaved(args, {
      bare: { ...visitor, url: `${server.url}/bare-visitor` },
      warm: { ...visitor, url: `${server.url}/guarded-visitor` },
    });
    const writes = await interleaved(args, {
      bare: { ...put, url: `${server.url}/bare-put/analytics` },
      put: { ...put, url: `${server.url}/consent/me/analytics` },
    });
    const pg = target.kind === 'pg';
    const rows = [
      row(`guard, warm cache / bare (${label})`, 0.95, guard, 'warm', 'bare'),
      { ...row(`guard, default cache / bare (${label})`, 0, guard, 'standard', 'bare'), required: 'report', pass: null },
      row(`guard, default options, ${String(writeCount)} writes before each load / bare (${label})`, 0.95, defaults, 'standard', 'bare'),
      {
        target: `store reads per 1,000 guarded requests, default options, writes before each load (${label})`,
        required: 'report',
        figure: ((reads / served) * 1000).toFixed(1),
        pass: null,
        raw: `${String(reads)} reads for ${String(served)} requests (misses and background re-reads; ${String(writeCount / 2)} active subjects written before each load)`,
      },
      row(`guard, cache disabled / bare (${label})`, pg ? 0.4 : 0.5, guard, 'cold', 'bare'),
      row(`guard, visitor cookie, warm cache / bare route reading the cookie (${label})`, 0.95, visitors, 'warm', 'bare'),
      row(`PUT /me/:id / bare insert in a transaction (${label})`, 0.5, writes, 'put', 'bare'),
    ];
    printTable(`HTTP (${label}, ${String(args.rounds)} rounds × ${String(args.duration)} s per variant)`, rows);
    return rows;
  } finally {
    await server.stop();
  }
}

/** Runs on SQLite, and on PostgreSQL when a server is configured. */
export async function main(args: BenchArgs = parseArgs()): Promise<ResultRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'consent-bench-'));
  try {
    const rows: ResultRow[] = [];
    if (!args.pgOnly) {
      for (const { driver, label } of sqliteDrivers()) {
        rows.push(...(await httpBench(args, { kind: 'sqlite', driver, filename: join(dir, `http-${driver}.sqlite3`) }, label)));
      }
    }
    if (args.pg) {
      const db = await createPgDatabase(args.pg);
      try {
        rows.push(...(await httpBench(args, { kind: 'pg', url: db.url }, 'PostgreSQL')));
      } finally {
        await db.drop();
      }
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${String(process.argv[1])}`) await main();

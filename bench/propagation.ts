/**
 * Cross-process propagation: one process withdraws, the other processes (each with a
 * one-minute cache lifetime) must refuse within the change feed's bound: 100 ms on PostgreSQL
 * (NOTIFY), 250 ms on one SQLite file (a `PRAGMA data_version` check every 100 ms, plus the
 * write and the check's wait for the connection). Prints the distribution of the time from the
 * start of the withdrawal call to the first refusal seen by each watcher.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, percentile, type BenchArgs } from './lib/args';
import { createPgDatabase } from './lib/pg';
import { benchConsent, openKnex, type Target } from './lib/setup';
import { printTable, type ResultRow } from './lib/table';

const WATCHERS = 2;

interface Worker {
  child: ChildProcess;
  call(message: object, until?: (reply: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

let nextId = 0;

async function startWorker(target: Target): Promise<Worker> {
  const script = fileURLToPath(new URL('./propagation-worker.ts', import.meta.url));
  const child = fork(script, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_TARGET: JSON.stringify(target) } });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => { resolve(); });
    child.once('exit', (code) => { reject(new Error(`worker exited with ${String(code)}`)); });
  });
  child.removeAllListeners('exit');
  return {
    child,
    call(message, until = () => true) {
      const id = (nextId += 1);
      return new Promise((resolve) => {
        const listener = (reply: Record<string, unknown>) => {
          if (reply.id !== id || !until(reply)) return;
          child.off('message', listener);
          resolve(reply);
        };
        child.on('message', listener);
        child.send({ ...message, id });
      });
    },
  };
}

export async function propagationBench(args: BenchArgs, target: Target): Promise<ResultRow[]> {
  // Migrate once before the processes start, so that they do not race to create the schema.
  const knex = openKnex(target);
  await (await benchConsent(knex)).close();
  await knex.destroy();
  // One after another: processes starting at once on one SQLite file can fail their
  // requirement sync with SQLITE_BUSY (a read transaction that must upgrade to write).
  const workers: Worker[] = [];
  try {
    for (let i = 0; i <= WATCHERS; i += 1) workers.push(await startWorker(target));
  } catch (error) {
    for (const w of workers) w.child.kill();
    throw error;
  }
  const [writer, ...watchers] = workers as [Worker, ...Worker[]];
  const latencies: number[] = [];
  try {
    const runs = args.tiny ? 3 : 50;
    for (let i = 0; i < runs; i += 1) {
      const subject = `p${String(i)}`;
      await writer.call({ cmd: 'grant', subject });
      const seen = watchers.map((w) => {
        let watching!: () => void;
        const ready = new Promise<void>((resolve) => (watching = resolve));
        const done = w.call({ cmd: 'watch', subject }, (reply) => {
          if (reply.watching) watching();
          return reply.seenAt !== undefined;
        });
        return { ready, done };
      });
      await Promise.all(seen.map((s) => s.ready));
      const withdrawal = await writer.call({ cmd: 'withdraw', subject });
      for (const s of seen) latencies.push(((await s.done).seenAt as number) - (withdrawal.startedAt as number));
    }
  } finally {
    for (const w of workers) w.child.send({ cmd: 'stop' });
  }
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const max = Math.max(...latencies);
  const pg = target.kind === 'pg';
  const bound = pg ? 100 : 250;
  const rows: ResultRow[] = [
    {
      target: `withdrawal seen by ${String(WATCHERS)} other processes (${pg ? 'PostgreSQL NOTIFY' : 'one SQLite file, data_version check'}, cache ttl 60 s)`,
      required: `≤ ${String(bound)} ms (max)`,
      figure: ms(max),
      pass: max <= bound,
      raw: `n=${String(latencies.length)}; p50 ${ms(percentile(latencies, 0.5))}, p90 ${ms(percentile(latencies, 0.9))}, p99 ${ms(percentile(latencies, 0.99))}, min ${ms(Math.min(...latencies))}`,
    },
  ];
  printTable(`Propagation across processes (${pg ? 'PostgreSQL' : 'SQLite'})`, rows);
  return rows;
}

/** On one SQLite file (the embedded default's settings), and on PostgreSQL when configured. */
export async function main(args: BenchArgs = parseArgs()): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  if (!args.pgOnly) {
    const dir = mkdtempSync(join(tmpdir(), 'consent-bench-'));
    try {
      rows.push(...(await propagationBench(args, { kind: 'sqlite', filename: join(dir, 'propagation.sqlite3') })));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (args.pg) {
    const db = await createPgDatabase(args.pg);
    try {
      rows.push(...(await propagationBench(args, { kind: 'pg', url: db.url })));
    } finally {
      await db.drop();
    }
  }
  return rows;
}

if (import.meta.url === `file://${String(process.argv[1])}`) await main();

/**
 * `verify()` throughput over a store built with `consent.import()`. `verify` is another
 * feature's: this bench runs only when the consent object has it, and says so otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, type BenchArgs } from './lib/args';
import { benchConsent, grants, openKnex, REQUIREMENTS } from './lib/setup';
import { printTable, type ResultRow } from './lib/table';

type Verify = (options?: object) => Promise<{ ok: boolean; checked: number }>;

export async function main(args: BenchArgs = parseArgs()): Promise<ResultRow[]> {
  if (args.pgOnly) return [];
  const dir = mkdtempSync(join(tmpdir(), 'consent-bench-'));
  const knex = openKnex({ kind: 'sqlite', filename: join(dir, 'verify.sqlite3') });
  try {
    const consent = await benchConsent(knex);
    const verify = (consent as unknown as { verify?: Verify }).verify;
    if (typeof verify !== 'function') {
      console.log('\nverify: skipped (consent.verify does not exist on this branch)\n');
      await consent.close();
      return [];
    }
    await consent.import(grants(Math.ceil(args.events / REQUIREMENTS.length)), { batchSize: 5000 });
    const started = performance.now();
    const result = await verify.call(consent);
    const seconds = (performance.now() - started) / 1000;
    const rate = result.checked / seconds;
    await consent.close();
    const rows: ResultRow[] = [
      {
        target: `verify() over ${result.checked.toLocaleString('en')} events (SQLite)`,
        required: '≥ 100,000/s',
        figure: `${Math.round(rate).toLocaleString('en')}/s`,
        pass: result.ok && rate >= 100_000,
        raw: `${seconds.toFixed(1)} s, ok=${result.ok}`,
      },
    ];
    printTable('verify (SQLite)', rows);
    return rows;
  } finally {
    await knex.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();

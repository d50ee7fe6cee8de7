/**
 * `npm run bench`: every benchmark, then one summary table of every target.
 *
 *   npm run bench                      # SQLite; PostgreSQL too when CONSENT_TEST_PG_URL is set
 *   npm run bench -- --pg postgres://… # PostgreSQL server to create throwaway databases on
 *   npm run bench -- --tiny            # seconds, for the smoke test (figures mean nothing)
 *   options: --rounds N (15), --duration S (2), --events N (1000000), --subjects N (1000000,
 *   the audience store), --sqlite-only, --pg-only
 */
import { cpus } from 'node:os';
import { main as audience } from './audience';
import { parseArgs } from './lib/args';
import { printTable, type ResultRow } from './lib/table';
import { main as guardCost } from './guard-cost';
import { main as http } from './http';
import { main as lookup } from './lookup';
import { main as propagation } from './propagation';
import { main as verify } from './verify';

const args = parseArgs();
const started = Date.now();
console.log(`express-consent benchmarks: node ${process.version}, ${String(cpus().length)} CPUs (${cpus()[0]?.model ?? '?'}), ` +
  `${String(args.rounds)} rounds, ${String(args.duration)} s per variant, ${String(args.events)} events, PostgreSQL ${args.pg ? 'yes' : 'no'}`);
const rows: ResultRow[] = [];
rows.push(...(await guardCost(args)));
rows.push(...(await http(args)));
rows.push(...(await lookup(args)));
rows.push(...(await verify(args)));
rows.push(...(await propagation(args)));
rows.push(...(await audience(args)));
printTable(`Summary (${((Date.now() - started) / 1000).toFixed(0)} s)`, rows);
process.exit(0);
